"""Progress on stderr: a live rich bar per endpoint when stderr is a terminal, nothing otherwise."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ["NullTracker", "RichTracker", "Tracker", "make_tracker"]

TOTAL = "all"


class Tracker(Protocol):
    """Where the runner reports progress."""

    def add(self, key: str, total: int | None) -> None:
        """A new row of ``total`` ids (None: unknown, e.g. cancel-all)."""
        ...

    def show(self, key: str, ids: int, requests: int) -> None:
        """Row ``key`` has ``ids`` ids settled so far, in ``requests`` requests."""
        ...

    def __enter__(self) -> Tracker: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


class NullTracker:
    """No live output (stderr is not a terminal, or --no-progress)."""

    def add(self, key: str, total: int | None) -> None:
        """Nothing to show."""

    def show(self, key: str, ids: int, requests: int) -> None:
        """Nothing to show."""

    def __enter__(self) -> NullTracker:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None


class _RateColumn(ProgressColumn):
    """Ids per second, averaged over the row's run."""

    def render(self, task: Task) -> Text:
        """E.g. ``612 ids/s``: the average since the row started (until it finished)."""
        elapsed = (task.finished_time if task.finished else task.elapsed) or 0.0
        speed = task.completed / elapsed if elapsed > 0.05 else 0.0
        return Text(f"{speed:,.0f}/s", style="progress.data.speed")


class RichTracker:
    """A rich Progress: one bar for all ids, one per endpoint (ids, requests, rate, time left)."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TextColumn("{task.fields[requests]:>4} req"),
            _RateColumn(),
            TimeRemainingColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
            refresh_per_second=10,
        )
        self._tasks: dict[str, TaskID] = {}
        self._totals: dict[str, int | None] = {}
        self._now: dict[str, tuple[int, int]] = {}  # row -> (ids settled, requests)

    def add(self, key: str, total: int | None) -> None:
        """One bar per row, plus the overall bar above them."""
        if TOTAL not in self._tasks:
            self._add(TOTAL, "[bold]all ids", 0)
        self._add(key, f"  {key}", total)
        overall = self._totals[TOTAL]
        self._totals[TOTAL] = None if overall is None or total is None else overall + total
        self._progress.update(self._tasks[TOTAL], total=self._totals[TOTAL])

    def _add(self, key: str, description: str, total: int | None) -> None:
        """Start one bar."""
        self._tasks[key] = self._progress.add_task(description, total=total, requests=0)
        self._totals[key] = total

    def show(self, key: str, ids: int, requests: int) -> None:
        """Set the row's bar, and the overall bar to the sum of the rows."""
        if self._now.get(key) == (ids, requests):
            return
        self._now[key] = (ids, requests)
        self._progress.update(self._tasks[key], completed=ids, requests=requests)
        self._progress.update(self._tasks[TOTAL], completed=sum(n for n, _ in self._now.values()),
                              requests=sum(r for _, r in self._now.values()))

    def __enter__(self) -> RichTracker:
        self._progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.stop()


def make_tracker(console: Console, enabled: bool) -> Tracker:
    """A live tracker when enabled and the console is a terminal, else a silent one."""
    if enabled and console.is_terminal:
        return RichTracker(console)
    return NullTracker()
