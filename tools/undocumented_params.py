"""List the parameters the API reference leaves undescribed.

``python tools/undocumented_params.py`` prints, for every function and method the reference
(docs/reference.md) renders, the parameters its docstring has no ``:param name:`` field for
(the reference's docstring style is Sphinx's: each ``:param x: ...`` becomes a row of the
parameters table). Exit 1 when any is missing, so it can gate CI once they are written.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import griffe

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference.md"


def _functions(obj: griffe.Object | griffe.Alias) -> Iterator[griffe.Object | griffe.Alias]:
    if obj.is_function:
        yield obj
    elif obj.is_class:
        for name, member in obj.members.items():
            if member.is_function and (not name.startswith("_") or name == "__init__"):
                yield member


def missing() -> list[str]:
    """``name: param, param`` for every rendered function with parameters not described."""
    package = griffe.load("htx_cancel", search_paths=[ROOT], docstring_parser="sphinx",
                          resolve_aliases=True, resolve_implicit=True)
    names = re.findall(r"^:::\s*(\S+)", REFERENCE.read_text(encoding="utf-8"), re.M)
    found: list[str] = []
    for name in names:
        obj = package.modules_collection.get_member(name)
        target = obj.final_target if obj.is_alias else obj
        for function in _functions(target):
            params = [p.name for p in function.parameters
                      if p.name not in ("self", "cls") and not p.name.startswith("_")]
            described: set[str] = set()
            if function.docstring is not None:
                for section in function.docstring.parsed:
                    if section.kind.value == "parameters":
                        described |= {p.name for p in section.value}
            left = [p for p in params if p not in described]
            if left:
                shown = name if function.name in ("__init__", name.rsplit(".", 1)[-1]) \
                    else f"{name}.{function.name}"
                found.append(f"{shown}: {', '.join(left)}")
    return found


def main() -> int:
    found = missing()
    print("\n".join(found))
    print(f"{len(found)} functions with parameters the reference does not describe",
          file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
