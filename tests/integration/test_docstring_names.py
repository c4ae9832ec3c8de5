"""Every ``htx_cancel.<name>`` a docstring or comment points to can be imported from there."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import htx_cancel

PACKAGE = Path(htx_cancel.__file__).parent
NAME = re.compile(r"htx_cancel(?:\.[A-Za-z_]\w*)+")
LOGGERS = {"htx_cancel.redis"}  # logger names, not importable names
PENDING: set[tuple[str, str]] = set()  # known and not yet fixed: none


def _resolves(dotted: str) -> bool:
    """True when ``dotted`` is a module, or a public name reachable from one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        obj: object = module
        for part in parts[cut:]:
            if not hasattr(obj, part):
                return False
            obj = getattr(obj, part)
        rest = parts[cut:]
        public = not module.__name__.rsplit(".", 1)[-1].startswith("_")
        exported = getattr(module, "__all__", None)
        return not (rest and public and exported is not None and rest[0] not in exported)
    return False


def _references() -> set[tuple[str, str]]:
    """(file, dotted name) for every dotted ``htx_cancel.`` name in the package's source."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for match in NAME.finditer(path.read_text()):
            found.add((path.relative_to(PACKAGE).as_posix(), match.group(0)))
    return found


def test_every_name_a_docstring_points_to_is_importable_there() -> None:
    refs = _references()
    broken = {(f, n) for f, n in refs if n not in LOGGERS and not _resolves(n)}
    assert broken - PENDING == set()
    assert broken >= PENDING  # once fixed there, an entry leaves PENDING
