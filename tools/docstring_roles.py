"""Sphinx roles in docstrings to mkdocstrings cross-references, mechanically.

``:class:`~htx_cancel.CancelReport``` becomes ``[`CancelReport`][htx_cancel.CancelReport]``: a
link when the target is documented in the API reference (docs/reference.md, under the name
that users import: ``htx_cancel.CancelReport``, never ``htx_cancel._report.CancelReport``),
else plain code (`` `CancelReport` ``), because a cross-reference to a page that does not
exist fails ``mkdocs build --strict``. Short names are resolved as Python would in the
docstring's scope (its class, its module's imports).

Two uses of one conversion:

- ``python tools/docstring_roles.py [--check] [PATH ...]`` rewrites the docstrings of the
  package's files in place (``--check``: change nothing, exit 1 if a role is left); a line the
  longer cross-reference pushes past ruff's limit is refilled with the rest of its paragraph,
  and any line still too long is listed. Run once on the reshaped code.
- ``tools/docstring_roles.py:SphinxRoles``, a griffe extension in mkdocs.yml, converts while the
  site is built, so the reference reads right before the sources are converted (it has nothing
  to do after).
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import griffe

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "htx_cancel"
REFERENCE = ROOT / "docs" / "reference.md"
LINE_LIMIT = 100  # ruff's line-length (pyproject.toml)

ROLE = re.compile(r":(?:py:)?(?P<role>class|meth|func|attr|exc|data|obj|mod|const):"
                  r"`(?P<tilde>~?)(?P<target>[^`<>\s]+)`")

Resolve = Callable[[str], str | None]


def convert(text: str, resolve: Resolve) -> str:
    """``text`` with every Sphinx role replaced by a cross-reference (or code when unresolved)."""

    def replace(match: re.Match[str]) -> str:
        target = match["target"].removesuffix("()")
        shown = target.rsplit(".", 1)[-1] if match["tilde"] else target
        if match["role"] in ("meth", "func"):
            shown += "()"
        identifier = resolve(target)
        return f"`{shown}`" if identifier is None else f"[`{shown}`][{identifier}]"

    return ROLE.sub(replace, text)


def documented(reference: Path = REFERENCE) -> set[str]:
    """The identifiers the API reference renders (``::: name`` lines); members go with them."""
    found = re.findall(r"^:::\s*(\S+)", reference.read_text(encoding="utf-8"), re.M)
    return set(found)


def public_names(package: griffe.Module) -> dict[str, str]:
    """Canonical path -> the path users import, for every name a public module re-exports."""
    names: dict[str, str] = {}
    modules = [package, *(m for m in _modules(package) if not _private(m.path))]
    for module in modules:
        for name, member in module.members.items():
            if member.is_alias and not name.startswith("_"):
                try:
                    names.setdefault(member.target_path, f"{module.path}.{name}")
                except griffe.AliasResolutionError:
                    continue
    return names


def _private(path: str) -> bool:
    return any(part.startswith("_") for part in path.split("."))


def _modules(module: griffe.Module) -> Iterator[griffe.Module]:
    for member in module.modules.values():
        if not member.is_alias:
            yield member
            yield from _modules(member)


class Resolver:
    """Resolves a role's target in an object's scope to a documented, public identifier."""

    def __init__(self, package: griffe.Module, documented: set[str]) -> None:
        self._package = package
        self._documented = documented
        self._public = public_names(package)

    def public(self, path: str) -> str:
        """The path as users import it: the longest re-exported prefix swapped in."""
        parts = path.split(".")
        for cut in range(len(parts), 0, -1):
            head = ".".join(parts[:cut])
            if head in self._public:
                return ".".join([self._public[head], *parts[cut:]])
        return path

    def is_documented(self, identifier: str) -> bool:
        """True when the reference renders it: a ``:::`` entry, or one of its members."""
        if _private(identifier):
            return False
        parts = identifier.split(".")
        return any(".".join(parts[:cut]) in self._documented for cut in range(len(parts), 0, -1))

    def full_path(self, scope: griffe.Object, target: str) -> str | None:
        """The canonical path of ``target`` as seen from ``scope`` (None if unknown)."""
        if target.split(".")[0] == PACKAGE:
            return target
        head, _, rest = target.partition(".")
        current: griffe.Object | None = scope
        while current is not None:  # the object itself, its class, its module
            if head in current.members:
                found = current.members[head]
                base = found.target_path if found.is_alias else found.path
                return f"{base}.{rest}" if rest else base
            if head in getattr(current, "imports", {}):
                base = current.imports[head]
                return f"{base}.{rest}" if rest else base
            current = current.parent
        return None

    def for_scope(self, scope: griffe.Object) -> Resolve:
        """A resolver for roles in ``scope``'s docstring."""

        def resolve(target: str) -> str | None:
            try:
                path = self.full_path(scope, target)
            except griffe.AliasResolutionError:
                return None
            if path is None:
                return None
            identifier = self.public(self._canonical(path))
            return identifier if self.is_documented(identifier) else None

        return resolve

    def _canonical(self, path: str) -> str:
        """Follow an alias (``htx_cancel.CancelClient`` -> ``htx_cancel._client.CancelClient``)."""
        try:
            obj = self._package.modules_collection.get_member(path)
        except (KeyError, ValueError, griffe.AliasResolutionError):
            return path
        try:
            return str(obj.canonical_path)
        except griffe.AliasResolutionError:
            return path


def objects(obj: griffe.Object) -> Iterator[griffe.Object]:
    """``obj`` and every object defined under it (aliases skipped)."""
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from objects(member)


class SphinxRoles(griffe.Extension):
    """A griffe extension: convert Sphinx roles while mkdocstrings renders the reference."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.name != PACKAGE:
            return
        resolver = Resolver(pkg, documented())
        for obj in objects(pkg):
            if obj.docstring is not None and ROLE.search(obj.docstring.value):
                obj.docstring.value = convert(obj.docstring.value, resolver.for_scope(obj))


# Lines that start something of their own: a list item, a field, a code block, a doctest.
_ITEM = re.compile(r"^\s*(?:[-*] |\d+\. |```|>>>|:(?:param|type|returns?|rtype|raises?|var)\b)")


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _ends_docstring(line: str) -> bool:
    text = line.strip()
    return len(text) > 3 and text.endswith('"""')


def _reflow(lines: list[str], i: int, last: int) -> int:
    """Refill the paragraph from line ``i`` (up to ``last``) to the line limit, in place.

    The paragraph ends at a blank line, a new list item, field or code block, a change of
    indentation, or the docstring's closing quotes (a line of its own stays one). Returns how
    many lines it gained.
    """
    first = lines[i]
    indent = _indent(first)
    follow = indent + "  " if re.match(r"\s*[-*] ", first) else indent
    j = i + 1
    if not _ends_docstring(first):
        while (j <= last and lines[j].strip() and not _ITEM.match(lines[j])
               and _indent(lines[j]) == follow and not lines[j].strip().startswith('"""')):
            j += 1
            if _ends_docstring(lines[j - 1]):
                break
    words = " ".join(line.strip() for line in lines[i:j]).split()
    filled = textwrap.wrap(" ".join(words), width=LINE_LIMIT, initial_indent=indent,
                           subsequent_indent=follow, break_long_words=False,
                           break_on_hyphens=False)
    lines[i:j] = [line + "\n" for line in filled]
    return len(filled) - (j - i)


def _rewrite(paths: list[Path], check: bool) -> int:
    """Convert the docstrings of ``paths`` in place; 1 when ``check`` finds a role left."""
    package = griffe.load(PACKAGE, search_paths=[ROOT], resolve_aliases=True,
                          resolve_implicit=True)
    assert isinstance(package, griffe.Module)
    resolver = Resolver(package, documented())
    wanted = {file.resolve() for path in paths
              for file in (sorted(path.rglob("*.py")) if path.is_dir() else [path])}
    if paths and not wanted:
        raise SystemExit(f"no Python files in {', '.join(map(str, paths))}")
    edits: dict[Path, list[tuple[int, int, griffe.Object]]] = {}
    for obj in objects(package):
        docstring = obj.docstring
        if docstring is None or obj.filepath is None or not ROLE.search(docstring.value):
            continue
        path = Path(str(obj.filepath)).resolve()
        if wanted and path not in wanted:
            continue
        edits.setdefault(path, []).append((docstring.lineno or 0, docstring.endlineno or 0, obj))
    left = 0
    for path, spans in sorted(edits.items()):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        # Bottom up, so that rewrapping a docstring does not move the ones above it.
        for start, end, obj in sorted(spans, key=lambda span: -span[0]):
            resolve = resolver.for_scope(obj)
            last = end - 1
            for i in range(start - 1, end):
                new = convert(lines[i], resolve)
                if new != lines[i]:
                    left += 1
                    lines[i] = new
            i = start - 1
            while i <= last:
                if len(lines[i].rstrip("\n")) > LINE_LIMIT:
                    last += _reflow(lines, i, last)
                i += 1
            for number in range(start - 1, last + 1):
                if len(lines[number].rstrip("\n")) > LINE_LIMIT:
                    print(f"{path.relative_to(ROOT)}:{number + 1}: longer than {LINE_LIMIT} "
                          "columns: rewrap it by hand")
        if check:
            print(f"{path.relative_to(ROOT)}: Sphinx roles left in docstrings")
        else:
            path.write_text("".join(lines), encoding="utf-8")
    return 1 if check and left else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a docstring still has a Sphinx role")
    parser.add_argument("paths", nargs="*", type=Path,
                        help="only these files (default: the whole package)")
    args = parser.parse_args(argv)
    return _rewrite(args.paths, args.check)


if __name__ == "__main__":
    sys.exit(main())
