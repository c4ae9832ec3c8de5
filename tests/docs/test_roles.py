"""tools/docstring_roles.py: Sphinx roles to mkdocstrings cross-references."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ._blocks import ROOT

TOOL = ROOT / "tools" / "docstring_roles.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docstring_roles", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


roles = _tool()

KNOWN = {"CancelReport": "htx_cancel.CancelReport",
         "htx_cancel.RequestEvent": "htx_cancel.RequestEvent",
         "CancelClient.cancel": "htx_cancel.CancelClient.cancel"}


@pytest.mark.parametrize(("text", "expected"), [
    (":class:`CancelReport`", "[`CancelReport`][htx_cancel.CancelReport]"),
    ("a :class:`~htx_cancel.RequestEvent` after",
     "a [`RequestEvent`][htx_cancel.RequestEvent] after"),
    (":meth:`CancelClient.cancel`", "[`CancelClient.cancel()`][htx_cancel.CancelClient.cancel]"),
    (":py:meth:`CancelClient.cancel()`",
     "[`CancelClient.cancel()`][htx_cancel.CancelClient.cancel]"),
    (":func:`simulate`", "`simulate()`"),  # not in the reference: code, not a broken link
    (":mod:`htx_cancel._plan`", "`htx_cancel._plan`"),
    ("``:class:`` alone, :class:`X` and `CancelReport`",
     "``:class:`` alone, `X` and `CancelReport`"),
    ("no roles here", "no roles here"),
])
def test_convert(text: str, expected: str) -> None:
    assert roles.convert(text, KNOWN.get) == expected


def test_the_command_lines_files_have_no_roles() -> None:
    checked = subprocess.run([sys.executable, str(TOOL), "--check", "htx_cancel/cli"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # and --check does find them where they are (the client's, until it is converted)
    if roles.ROLE.search((ROOT / "htx_cancel" / "_client.py").read_text()):
        found = subprocess.run([sys.executable, str(TOOL), "--check", "htx_cancel/_client.py"],
                               cwd=ROOT, capture_output=True, text=True, timeout=120,
                               check=False)
        assert found.returncode == 1 and "_client.py" in found.stdout


def test_converting_a_copy_leaves_no_role_and_links_public_names(tmp_path: Path) -> None:
    for part in ("htx_cancel", "docs", "tools"):
        shutil.copytree(ROOT / part, tmp_path / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)  # ruff's line length
    tool = tmp_path / "tools" / "docstring_roles.py"
    done = subprocess.run([sys.executable, str(tool)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    again = subprocess.run([sys.executable, str(tool), "--check"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0, again.stdout  # nothing left to convert
    sources = {p: p.read_text() for p in (tmp_path / "htx_cancel").rglob("*.py")}
    for path, text in sources.items():
        compile(text, str(path), "exec")  # still Python
        assert not roles.ROLE.search(text), path
    links = "".join(sources.values())
    assert "[`CancelReport`][htx_cancel.CancelReport]" in links
    assert "][htx_cancel._" not in links  # never a private module's path
    assert "rewrap it by hand" not in done.stdout
    linted = subprocess.run([sys.executable, "-m", "ruff", "check", "--select", "E501,W",
                             "htx_cancel"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, check=False)
    assert linted.returncode == 0, linted.stdout  # the longer lines were refilled


def test_reflow_refills_a_paragraph_and_keeps_the_closing_quotes() -> None:
    words = " ".join(f"w{i}" for i in range(40))
    lines = [f"    {words}\n", "    next line of the paragraph\n", '    """\n']
    gained = roles._reflow(lines, 0, 2)
    assert all(len(line) <= 101 for line in lines) and lines[-1] == '    """\n'
    assert gained == len(lines) - 3
    tail = ["next", "line", "of", "the", "paragraph"]
    assert " ".join(lines[:-1]).split() == [*words.split(), *tail]
    item = ["    - " + words + "\n", "      more of the item\n", "    - another item\n"]
    roles._reflow(item, 0, 2)
    assert item[-1] == "    - another item\n"
    assert all(line.startswith("      ") for line in item[1:-1])
