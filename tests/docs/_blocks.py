"""Finding the ```python blocks of the project's Markdown files."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ROOT", "Block", "blocks_in", "markdown_files", "parse"]

ROOT = Path(__file__).resolve().parents[2]
_FENCE = re.compile(r"^(?P<indent> *)(?P<ticks>`{3,}|~{3,})(?P<info>.*)$")


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced code block: where it starts (1-based line of its fence) and its text."""

    path: str  # relative to the repository root
    line: int
    language: str
    text: str

    @property
    def name(self) -> str:
        """``docs/cli.md:42``, the test id."""
        return f"{self.path}:{self.line}"

    @property
    def digest(self) -> str:
        """A short hash of the text: it changes whenever the example is edited."""
        return hashlib.sha256(self.text.encode()).hexdigest()[:12]

    @property
    def is_test(self) -> bool:
        """True for a block written as a pytest test module (run with pytest, as a user would)."""
        return bool(re.search(r"^(async )?def test_|^pytest_plugins\b", self.text, re.M))


def markdown_files() -> list[Path]:
    """docs/*.md and README.md."""
    return [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]


def blocks_in(path: Path) -> list[Block]:
    """Every fenced block of the Markdown file ``path``."""
    return parse(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())


def _dedent(line: str, indent: int) -> str:
    """The line without the fence's indentation (a list item's block is indented)."""
    return line[indent:] if line[:indent].strip() == "" else line.lstrip()


def parse(markdown: str, rel: str) -> list[Block]:
    """Every fenced block of ``markdown``; the indentation of its fence is removed."""
    found: list[Block] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        ticks, indent = opening["ticks"], len(opening["indent"])
        start, body = i + 1, []
        i += 1
        while i < len(lines):
            closing = _FENCE.match(lines[i])
            if (closing is not None and closing["ticks"][0] == ticks[0]
                    and len(closing["ticks"]) >= len(ticks) and not closing["info"].strip()):
                break
            body.append(_dedent(lines[i], indent))
            i += 1
        language = opening["info"].strip().split(" ")[0].lower() if opening["info"] else ""
        found.append(Block(rel, start, language, "\n".join(body) + "\n"))
        i += 1
    return found
