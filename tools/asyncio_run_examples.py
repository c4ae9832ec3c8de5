"""Rewrite Markdown ```python blocks that use top-level await into the asyncio.run(main()) form.

``python tools/asyncio_run_examples.py docs/redis.md docs/testing.md`` edits the files in place:
a block that does not compile as a plain script (top-level ``await`` / ``async with``) keeps its
imports at the top, the rest goes in ``async def main() -> None:``, and ``asyncio.run(main())``
closes it. Blocks that already run as files are left alone. Then remove the files from
``TOP_LEVEL_AWAIT`` in tests/docs/test_examples.py, and read the result: a helper defined at
the top of an example now sits inside ``main()``, which is right for an example but may read
better moved back out.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

FENCE = re.compile(r"^(?P<indent> *)(?P<ticks>`{3,})python\b.*$")


def runs_as_file(text: str) -> bool:
    """True when the block compiles as a plain script."""
    try:
        compile(text, "<example>", "exec")
    except SyntaxError:
        return False
    return True


def _is_import(line: str) -> bool:
    return line.startswith(("import ", "from "))


def convert(text: str) -> str:
    """The block in the ``asyncio.run(main())`` form."""
    lines = text.rstrip("\n").split("\n")
    head: list[str] = []
    i = 0
    while i < len(lines) and (_is_import(lines[i]) or not lines[i].strip()):
        head.append(lines[i])
        if lines[i].rstrip().endswith("("):  # a parenthesised import goes on to its ")"
            while not lines[i].strip().endswith(")"):
                i += 1
                head.append(lines[i])
        i += 1
    while head and not head[-1].strip():
        head.pop()
    if "import asyncio" not in head:
        head[:0] = ["import asyncio", ""] if head and head[0].startswith("from ") else \
            ["import asyncio"]
    body = [f"    {line}" if line.strip() else "" for line in lines[i:]]
    return "\n".join([*head, "", "", "async def main() -> None:", *body, "", "",
                      "asyncio.run(main())"]) + "\n"


def rewrite(markdown: str) -> str:
    """``markdown`` with each top-level-await python block converted."""
    src = markdown.split("\n")
    out: list[str] = []
    i = 0
    while i < len(src):
        opening = FENCE.match(src[i])
        if opening is None:
            out.append(src[i])
            i += 1
            continue
        indent = len(opening["indent"])
        j = i + 1
        while not (src[j].strip() == opening["ticks"]
                   and len(src[j]) - len(src[j].lstrip()) == indent):
            j += 1
        body = "\n".join(line[indent:] for line in src[i + 1:j]) + "\n"
        if not runs_as_file(body):
            body = convert(body)
        out.append(src[i])
        out += [" " * indent + line if line else "" for line in body.rstrip("\n").split("\n")]
        out.append(src[j])
        i = j + 1
    return "\n".join(out)


def main(argv: list[str]) -> int:
    for name in argv:
        path = Path(name)
        path.write_text(rewrite(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
