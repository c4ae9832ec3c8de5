"""What a run did: rows per endpoint, the rate-limit bound, the tables and the JSON."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from .._catalog import CATALOG
from .._limits import DEFAULT_LIMITS, RateLimits
from .._order_state import OrderState
from .._report import BatchRecord
from ._run import Outcome, row_key

__all__ = ["Row", "bound", "failure_text", "outcome_json", "print_details", "print_summary",
           "rows_of", "state_text", "summary_table", "total_row", "verdict"]

SHOWN = 10  # failed / unknown ids listed in the human summary; --json has them all


@dataclass(slots=True)
class Row:
    """One endpoint (and id field): what happened to its ids and how long it took."""

    key: str
    pools: Counter[str] = field(default_factory=Counter)
    ids: int = 0
    cancelled: int = 0
    failed: Counter[int | str] = field(default_factory=Counter)
    unknown: int = 0
    requests: int = 0
    start: float = math.inf
    end: float = -math.inf
    rejected: int | None = None  # 1032s the exchange counted, when it can tell (the demo)
    states: Counter[str] = field(default_factory=Counter)  # verified states of its ids

    @property
    def elapsed(self) -> float:
        """From the first batch queued to the last answer, in seconds."""
        return max(0.0, self.end - self.start)

    @property
    def bound(self) -> float:
        """The least time the rate limits allow for this row's requests alone."""
        return bound(self.pools)


def bound(requests: Mapping[str, int], limits: RateLimits = DEFAULT_LIMITS) -> float:
    """Least seconds n requests per pool need: (ceil(n/N) - 1) windows of T, worst pool."""
    worst = 0.0
    for pool, n in requests.items():
        cap, period = limits.full(pool)
        worst = max(worst, (math.ceil(n / cap) - 1) * period if n else 0.0)
    return worst


def _add_batch(row: Row, batch: BatchRecord) -> None:
    """A batch's requests and times."""
    row.requests += batch.attempts
    for pool in CATALOG[batch.endpoint].pools:
        row.pools[pool] += batch.attempts
    row.start = min(row.start, batch.queued_at)
    row.end = max(row.end, batch.answered_at)


def rows_of(outcome: Outcome) -> list[Row]:
    """One row per endpoint and id field, in the order they first appear."""
    rows: dict[str, Row] = {}
    where: dict[str, str] = {}
    cancel_all: str | None = None
    for batch in outcome.batches:
        key = row_key(batch.endpoint, batch.id_field)
        row = rows.setdefault(key, Row(key))
        _add_batch(row, batch)
        where.update(dict.fromkeys(batch.ids, key))
        if not batch.ids:
            cancel_all = key
    failed, states = outcome.failed, outcome.states
    for ids, bump in ((outcome.cancelled, "cancelled"), (failed, "failed"),
                      (outcome.unknown, "unknown")):
        for id_ in ids:
            found = where.get(id_, cancel_all)
            if found is None:
                continue
            row = rows[found]
            row.ids += 1
            if id_ in states:
                row.states[states[id_].value] += 1
            if bump == "failed":
                row.failed[failed[id_].code] += 1
            elif bump == "cancelled":
                row.cancelled += 1
            else:
                row.unknown += 1
    return list(rows.values())


def total_row(rows: Iterable[Row]) -> Row:
    """All rows together; the trade pool is shared, so its bound covers every request."""
    total = Row("all")
    for row in rows:
        total.pools.update(row.pools)
        total.ids += row.ids
        total.cancelled += row.cancelled
        total.failed.update(row.failed)
        total.unknown += row.unknown
        total.states.update(row.states)
        total.requests += row.requests
        total.start = min(total.start, row.start)
        total.end = max(total.end, row.end)
        if row.rejected is not None:
            total.rejected = (total.rejected or 0) + row.rejected
    return total


def failure_text(failed: Counter[int | str], sep: str = ", ") -> str:
    """``1061: 5, 1014: 2`` (or an empty string)."""
    ordered = sorted(failed.items(), key=lambda kv: str(kv[0]))  # codes may be int or str
    return sep.join(f"{code}: {n}" for code, n in ordered)


def state_text(states: Counter[str], sep: str = ", ") -> str:
    """``cancelled 48, filled 2``: most common first (or an empty string)."""
    ordered = sorted(states.items(), key=lambda kv: (-kv[1], kv[0]))
    return sep.join(f"{state} {n}" for state, n in ordered)


# The columns of the summary, by name: (header, cell of a row). Failed codes and verified
# states are one a line, so no cell is wider than its widest number or name.
_CELLS: dict[str, Callable[[Row], str]] = {
    "ids": lambda row: str(row.ids),
    "cancelled": lambda row: str(row.cancelled),
    "failed": lambda row: failure_text(row.failed, "\n") or "0",
    "unknown": lambda row: str(row.unknown),
    "req": lambda row: str(row.requests),
    "elapsed": lambda row: f"{row.elapsed:.2f}s",
    "bound": lambda row: f"{row.bound:.0f}s",
    "1032": lambda row: "" if row.rejected is None else str(row.rejected),
    "verified": lambda row: state_text(row.states, "\n") or "-",
}
_LEFT = frozenset({"failed", "verified"})
# Too narrow for one table: the outcomes in one, how long it took in a second.
_OUTCOMES = ("ids", "cancelled", "failed", "unknown", "verified")
_TIMING = ("req", "elapsed", "bound", "1032")


def _columns(rows: Sequence[Row]) -> list[str]:
    """The columns this run has: 1032 when the exchange can tell, verified when verified."""
    shown = ["ids", "cancelled", "failed", "unknown", "req", "elapsed", "bound"]
    if any(row.rejected is not None for row in rows):
        shown.append("1032")
    if any(row.states for row in rows):
        shown.append("verified")
    return shown


def summary_table(rows: Sequence[Row], title: str | None, columns: Sequence[str] | None = None,
                  *, short: bool = False) -> Table:
    """The per-endpoint table, with a total row when there is more than one endpoint.

    ``columns`` picks which (default: all the run has); ``short`` drops the ``swap_`` prefix
    that every endpoint name has and the padding, for narrow consoles. No cell is ever cut:
    ``print_summary`` picks a layout that fits.
    """
    names = [name for name in (columns or _columns(rows)) if name in _columns(rows)]
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  padding=(0, 1, 0, 0) if short else (0, 1), show_edge=False)
    table.add_column("endpoint", no_wrap=True)
    for name in names:
        table.add_column(name, justify="left" if name in _LEFT else "right", no_wrap=True)
    shown = [*rows, total_row(rows)] if len(rows) > 1 else list(rows)
    for i, row in enumerate(shown):
        label = row.key.removeprefix("swap_").removeprefix("v5/") if short else row.key
        table.add_row(label, *(_CELLS[name](row) for name in names),
                      style="bold" if i == len(rows) and i else None,
                      end_section=i == len(rows) - 1)
    return table


def _width(console: Console, table: Table) -> int:
    """The columns ``table`` needs to show every cell whole."""
    return console.measure(table, options=console.options.update_width(10_000)).maximum


def _as_lines(console: Console, rows: Sequence[Row], title: str) -> None:
    """Every row as a wrapped line of ``name value`` pairs: for consoles too narrow for a table."""
    console.print(title, highlight=False)
    shown = [*rows, total_row(rows)] if len(rows) > 1 else list(rows)
    for row in shown:
        cells = ", ".join(f"{name} {_CELLS[name](row).replace(chr(10), ', ')}"
                          for name in _columns(rows))
        console.print(f"{row.key}: {cells}", highlight=False)


def print_summary(console: Console, rows: Sequence[Row], title: str) -> None:
    """The per-endpoint summary in a layout that fits the console, never cutting a number.

    One table when it fits; on a narrow console (80 columns) the endpoint names lose their
    ``swap_`` prefix, then the table splits in two (outcomes, then requests and times); on a
    very narrow one each row is a wrapped line.
    """
    width = console.width
    whole = summary_table(rows, title)
    if _width(console, whole) <= width:
        console.print(whole)
        return
    short = summary_table(rows, title, short=True)
    if _width(console, short) <= width:
        console.print(short)
        return
    halves = [summary_table(rows, title, _OUTCOMES, short=True),
              summary_table(rows, None, _TIMING, short=True)]
    if all(_width(console, half) <= width for half in halves):
        for half in halves:
            console.print(half)
        return
    _as_lines(console, rows, title)


def print_details(console: Console, outcome: Outcome, pending: Sequence[str]) -> None:
    """The first failed and unknown ids with their reasons (and verified states), and what is
    still pending."""
    states = outcome.states
    for id_, failure in list(outcome.failed.items())[:SHOWN]:
        console.print(f"failed  {id_}  {failure.code} {failure.message}{_state_of(states, id_)}",
                      highlight=False)
    _more(console, len(outcome.failed))
    for id_, reason in list(outcome.unknown.items())[:SHOWN]:
        console.print(f"unknown {id_}  {reason}{_state_of(states, id_)}", highlight=False)
    _more(console, len(outcome.unknown))
    if pending:
        console.print(f"interrupted: {len(pending)} ids have no outcome (a request in flight "
                      "may still have cancelled some)", highlight=False)


def _state_of(states: Mapping[str, OrderState], id_: str) -> str:
    """`` (state: filled)`` for a verified id, else nothing."""
    state = states.get(id_)
    return "" if state is None else f" (state: {state.value})"


def _more(console: Console, n: int) -> None:
    """Say how many were not listed."""
    if n > SHOWN:
        console.print(f"... and {n - SHOWN} more (--json lists every id)", highlight=False)


def verdict(outcome: Outcome, pending: Sequence[str]) -> str:
    """One closing line."""
    cancelled, failed, unknown = (len(outcome.cancelled), len(outcome.failed),
                                  len(outcome.unknown))
    found = len(outcome.found_cancelled)
    again = f" ({found} found cancelled by verification)" if found else ""
    text = (f"{cancelled + failed + unknown} ids: {cancelled} cancelled{again}, {failed} failed, "
            f"{unknown} unknown")
    if pending:
        text += f", {len(pending)} not done (interrupted)"
    states = outcome.states
    if states:
        text += f"; verified {len(states)}: {state_text(Counter(s.value for s in states.values()))}"
    return text


def _batch_json(batch: BatchRecord) -> dict[str, Any]:
    """One batch record as JSON."""
    return {"endpoint": batch.endpoint, "id_field": batch.id_field, "ids": list(batch.ids),
            "attempts": batch.attempts, "outcome": batch.outcome, "status": batch.status,
            "error": batch.error, "errors": list(batch.errors),
            "queued_at": batch.queued_at, "sent_at": batch.sent_at,
            "answered_at": batch.answered_at}


def outcome_json(outcome: Outcome, pending: Sequence[str]) -> dict[str, Any]:
    """Every id with its outcome, the batches, and whether the run was interrupted."""
    return {
        "ok": outcome.ok,
        "cancelled": outcome.cancelled,
        "found_cancelled": outcome.found_cancelled,
        "failed": {id_: {"code": f.code, "message": f.message}
                   for id_, f in outcome.failed.items()},
        "unknown": outcome.unknown,
        "interrupted": outcome.interrupted,
        "pending": list(pending),
        "states": {id_: state.value for id_, state in outcome.states.items()},
        "batches": [_batch_json(b) for b in outcome.batches],
    }

