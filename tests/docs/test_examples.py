"""Every ```python block of docs/*.md and README.md runs, as it is written.

A block runs in a fresh interpreter, in an empty directory. A block written as a test module
(``def test_...`` or ``pytest_plugins``) runs under pytest with no configuration at all, as in a
new user's project; any other block runs as a script saved to a file, ``python example.py``,
so examples are in the ``asyncio.run(main())`` form (top-level ``await`` only works in ``python
-m asyncio`` or a notebook; the guides say so in an aside). Examples needing an exchange start
the fake one themselves (``htx_cancel.testing.FakeExchange``), so they run as they stand.

A block that is not an example to run must not be fenced as python (use ``text`` or none).
Examples using ``RedisLimiter`` read the server's address from ``REDIS_URL`` and are skipped
when it is not set (CI sets it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ._blocks import Block, blocks_in, markdown_files, parse

TIMEOUT = 60  # seconds for one example; they take about one

# Examples known not to run yet, by the hash of their text, each with why. An entry stops
# matching as soon as its example is edited, and the example then runs for real.
PENDING: dict[str, str] = {
    "8bc12b92101b": "docs/redis.md:29: its counts are v1's (25 ids a request; v5 sends 10)",
    "5ee4af60a39e": "docs/redis.md:168: its counts are v1's (25 ids a request; v5 sends 10)",
}

# Guides whose examples still use top-level await (not the command line's files; their owners
# convert them): run as ``python -m asyncio`` would. Every other file's must run as a file.
TOP_LEVEL_AWAIT = {"docs/redis.md", "docs/testing.md"}


# Runs a script whose top level may await (compiled as `python -m asyncio` compiles its input).
RUNNER = """\
import ast, asyncio, inspect, sys
path = sys.argv[1]
code = compile(open(path, encoding="utf-8").read(), path, "exec",
               flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
result = eval(code, {"__name__": "__main__", "__file__": path})
if inspect.iscoroutine(result):
    asyncio.run(result)
"""


def _python_blocks() -> list[Block]:
    return [b for path in markdown_files() if path.exists() for b in blocks_in(path)
            if b.language == "python"]


BLOCKS = _python_blocks()


def _run(block: Block, where: Path) -> subprocess.CompletedProcess[str]:
    """Run one example in a fresh interpreter in ``where``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HTX_"))}
    if block.is_test:
        (where / "test_example.py").write_text(block.text, encoding="utf-8")
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                "test_example.py"]
    elif block.path in TOP_LEVEL_AWAIT:
        (where / "example.py").write_text(block.text, encoding="utf-8")
        (where / "_runner.py").write_text(RUNNER, encoding="utf-8")
        argv = [sys.executable, "_runner.py", "example.py"]
    else:
        (where / "example.py").write_text(block.text, encoding="utf-8")
        argv = [sys.executable, "example.py"]
    return subprocess.run(argv, cwd=where, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


def _params() -> list[object]:
    params: list[object] = []
    for block in BLOCKS:
        marks = []
        if block.digest in PENDING:
            marks.append(pytest.mark.xfail(strict=True, reason=PENDING[block.digest]))
        params.append(pytest.param(block, id=block.name, marks=marks))
    return params


@pytest.mark.parametrize("block", _params())
def test_example_runs(block: Block, tmp_path: Path) -> None:
    if "RedisLimiter" in block.text and not os.environ.get("REDIS_URL"):
        pytest.skip("a Redis example: set REDIS_URL to run it (CI does)")
    done = _run(block, tmp_path)
    output = f"{block.name} (digest {block.digest}):\n{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, output
    if block.is_test:
        assert " passed" in done.stdout and " failed" not in done.stdout, output


def test_the_docs_have_examples() -> None:
    names = {b.path for b in BLOCKS}
    assert "README.md" in names and "docs/index.md" in names


def test_parse_finds_python_blocks_and_nothing_else() -> None:
    text = (
        "intro\n"
        "```python\n"
        "print(1)\n"
        "```\n"
        "- a list item\n"
        "    ```python title=\"x.py\"\n"
        "    if True:\n"
        "        print(2)\n"
        "    ```\n"
        "````markdown\n"
        "```python\n"
        "nested, not a block of its own\n"
        "```\n"
        "````\n"
        "```\n"
        "def test_shell(): pass\n"
        "```\n"
    )
    blocks = parse(text, "x.md")
    assert [(b.line, b.language) for b in blocks] == [(2, "python"), (6, "python"),
                                                     (10, "markdown"), (15, "")]
    assert blocks[1].text == "if True:\n    print(2)\n"
    assert blocks[2].text.startswith("```python\n")
    assert not blocks[0].is_test and blocks[3].is_test


def test_examples_run_as_saved_files() -> None:
    """No top-level await outside the files still allowed it: a user saves an example and
    runs it with python."""
    for block in BLOCKS:
        if block.path in TOP_LEVEL_AWAIT:
            continue
        try:
            compile(block.text, block.name, "exec")
        except SyntaxError as exc:
            pytest.fail(f"{block.name} does not run as a file (top-level await?): {exc}")
