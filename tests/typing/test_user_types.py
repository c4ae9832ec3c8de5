"""The library's types as a strict user meets them: ``mypy --strict`` on a bot (user_bot.py).

The bot is checked in an empty directory with no configuration but ``--strict``, as a user's
project would be. Exactly the lines marked ``# FAILS TODAY`` must fail: when the library's
types make one pass, the test says so and its mark goes; any other failure is a regression.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BOT = Path(__file__).with_name("user_bot.py")
MARK = "# FAILS TODAY"
ERROR = re.compile(r"^user_bot\.py:(?P<line>\d+): error: (?P<message>.*)$")

pytest.importorskip("mypy", reason="the dev extra brings mypy")


def _marked() -> set[int]:
    lines = BOT.read_text(encoding="utf-8").splitlines()
    return {number for number, line in enumerate(lines, 1) if line.rstrip().endswith(MARK)}


def _mypy(where: Path) -> dict[int, list[str]]:
    """Each failing line of the bot with mypy's messages for it."""
    shutil.copy(BOT, where / "user_bot.py")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--show-error-codes",
         "--no-error-summary", "--hide-error-context", "--no-pretty", "--python-version",
         "3.11", "user_bot.py"], cwd=where, capture_output=True, text=True, timeout=300,
        check=False)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 2: mypy itself failed
    errors: dict[int, list[str]] = {}
    for line in done.stdout.splitlines():
        found = ERROR.match(line)
        if found:
            errors.setdefault(int(found["line"]), []).append(found["message"])
    return errors


def test_a_strict_bot_fails_only_where_marked(tmp_path: Path) -> None:
    errors = _mypy(tmp_path)
    marked = _marked()
    source = BOT.read_text(encoding="utf-8").splitlines()
    passing_now = sorted(marked - errors.keys())
    new_failures = sorted(errors.keys() - marked)
    report = [f"line {n} type-checks now: remove its '{MARK}' mark: {source[n - 1].strip()}"
              for n in passing_now]
    report += [f"line {n} fails: {'; '.join(errors[n])}: {source[n - 1].strip()}"
               for n in new_failures]
    assert not report, "\n".join(report)


def test_the_marks_are_on_real_lines() -> None:
    """Every mark (none are left: every line type-checks) is on a statement of the bot, and
    lines are checked unmarked."""
    source = BOT.read_text(encoding="utf-8").splitlines()
    marked = _marked()
    assert all(source[n - 1].strip() and not source[n - 1].strip().startswith("#")
                          for n in marked)
    unmarked = [n for n, line in enumerate(source, 1) if "client" in line and n not in marked
                and not line.strip().startswith(("#", '"""'))]
    assert len(unmarked) >= 5  # lines that type-check today, and must go on doing so
