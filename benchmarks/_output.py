"""Rendering results: plain text or rich tables on the terminal, markdown, JSON."""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from ._common import Section

__all__ = ["machine_info", "markdown", "print_sections", "write_json"]


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
    }


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def plain(section: Section) -> str:
    """A fixed-width text table."""
    rows = [[_cell(r.get(c)) for c in section.columns] for r in section.rows]
    widths = [max([len(c)] + [len(row[i]) for row in rows]) for i, c in enumerate(section.columns)]
    lines = [section.title,
             "  ".join(c.ljust(w) for c, w in zip(section.columns, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
    lines += [f"  * {note}" for note in section.notes]
    return "\n".join(lines)


def markdown(section: Section) -> str:
    """A markdown table with the notes under it."""
    lines = [f"### {section.title}", "",
             "| " + " | ".join(section.columns) + " |",
             "| " + " | ".join("---" for _ in section.columns) + " |"]
    lines += ["| " + " | ".join(_cell(r.get(c)) for c in section.columns) + " |"
              for r in section.rows]
    if section.notes:
        lines.append("")
        lines += [f"- {note}" for note in section.notes]
    return "\n".join(lines) + "\n"


def print_sections(sections: list[Section], out: TextIO = sys.stdout) -> None:
    """Rich tables when rich is installed and ``out`` is a terminal; plain text otherwise."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        Console = None  # type: ignore[assignment,misc]
    if Console is None or not out.isatty():
        for section in sections:
            print(plain(section) + "\n", file=out)
        return
    console = Console(file=out)
    for section in sections:
        table = Table(title=section.title, title_justify="left")
        for column in section.columns:
            table.add_column(column)
        for row in section.rows:
            table.add_row(*(_cell(row.get(c)) for c in section.columns))
        console.print(table)
        for note in section.notes:
            console.print(f"  * {note}", highlight=False)
        console.print()


def write_json(path: Path, sections: list[Section], meta: dict[str, Any]) -> None:
    """Everything, machine-readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {**meta, "sections": [asdict(s) for s in sections]}
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
