"""The fold: the only writer of reports.

Outcomes go into a [`CancelReport`][htx_cancel.CancelReport] through here alone: each batch the
moment it settles (`Call`), the batch records of its attempts, the order the ids were given in once
the call ends, the stop of a call, and what verification learned (`fold_states()`). Observers
(verification) are told of each settled batch; nothing swaps the user's callbacks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Literal

from .._catalog import Priority
from .._order_state import OrderState
from .._report import BatchRecord, CancelReport, Failure
from ._merge import BatchOutcome

__all__ = ["FOLD_STEP", "Call", "add", "adopt", "fold_states", "fold_steps"]

FOLD_STEP = 1_000  # ids folded between two yields

NOT_CANCELLED = 1061  # the code a cancel of a filled or unknown order answers
STILL_OPEN = 0  # no exchange code: the order was still live when verification ended

Outcome = Literal["pending", "ok", "failed", "unknown"]


def adopt(report: CancelReport, other: CancelReport) -> None:
    """The batch records of requests made for ``report`` by another call (verification's
    re-cancels): the report tells every request its ids cost."""
    report.batches.extend(other.batches)


def add(report: CancelReport, outcome: BatchOutcome) -> None:
    """Fold one batch's outcome in."""
    report.cancelled.extend(outcome.cancelled)
    report.failed.update(outcome.failed)
    if outcome.order_ids:
        report.order_ids.update(outcome.order_ids)
    for id_, reason in outcome.unknown.items():
        report.unknown.append(id_)
        report.unknown_reasons[id_] = reason


class Call:
    """One call: its deadline and priority, and the report its batches fold into.

    Each batch is folded in the moment it settles, so the report always holds every settled
    id; ``finish`` puts this call's ids back in the order given if batches settled out of it.
    """

    __slots__ = ("_marks", "_settled", "_shuffled", "_top", "deadline", "observers", "priority",
                 "report", "stop")

    def __init__(self, deadline: float | None, priority: Priority,
                 report: CancelReport) -> None:
        self.deadline = deadline
        self.priority = priority
        self.report = report
        self.stop: Failure | None = None  # the failure that stopped the call (key, migrated)
        self.observers: list[Callable[[BatchRecord], None]] = []  # told of each settled batch
        self._marks = (len(report.cancelled), len(report.unknown))  # where this call's ids start
        self._settled: list[tuple[int, BatchOutcome]] = []
        self._top = -1  # the highest batch index settled so far
        self._shuffled = False

    def settle(self, index: int, outcome: BatchOutcome, record: BatchRecord) -> None:
        """Batch ``index`` is settled: fold it in now, then tell ``on_batch``."""
        report = self.report
        add(report, outcome)
        self._settled.append((index, outcome))
        if index > self._top:
            self._top = index
        else:
            self._shuffled = True
        for observer in self.observers:  # verification, before the user hears of it
            observer(record)
        if report.on_batch is not None:
            report.on_batch(record)

    # -- the batch records: written here only --------------------------------------------------

    def open(self, endpoint: str, ids: Sequence[str], field: str | None,
             now: float) -> BatchRecord:
        """A new batch's record, in the report from the moment it is queued."""
        record = BatchRecord(endpoint, tuple(ids), field, queued_at=now)
        self.report.batches.append(record)
        return record

    @staticmethod
    def sending(record: BatchRecord, attempt: int, now: float) -> None:
        """Attempt ``attempt`` of the batch leaves now."""
        record.attempts = attempt
        record.sent_at = now

    @staticmethod
    def answered(record: BatchRecord, now: float, status: int | None, error: str | None) -> None:
        """The attempt's answer (HTTP ``status``, None without one) came back; ``error`` when
        it did not settle the batch."""
        record.answered_at = now
        if status is not None:
            record.status = status
        if error is not None:
            record.error = error
            record.errors += (error,)

    @staticmethod
    def closed(record: BatchRecord, outcome: Outcome, error: str | None) -> None:
        """The batch's attempts are over."""
        record.outcome = outcome
        record.error = error



    def finish(self) -> None:
        """The call is ending: if batches settled out of order, put its ids in order, once."""
        for _ in self.finish_steps():
            pass

    def finish_steps(self, step: int = FOLD_STEP) -> Iterator[None]:
        """``finish`` a slice at a time: a generator that yields after about every ``step``
        ids gathered, so that an asyncio caller can give the loop back between slices; the
        report is put in order at the end, in one go (no await between its writes)."""
        if not self._shuffled:
            return
        self._shuffled = False
        ordered = sorted(self._settled, key=_first)
        cancelled: list[str] = []
        unknown: list[str] = []
        mark = step
        for _, outcome in ordered:
            cancelled += outcome.cancelled
            unknown += outcome.unknown
            if len(cancelled) + len(unknown) >= mark:
                mark += step
                yield
        report = self.report
        start, unknown_start = self._marks
        _reorder(report.cancelled, start, cancelled)
        _reorder(report.unknown, unknown_start, unknown)
        failed = report.failed
        for _, outcome in ordered:
            for id_ in outcome.failed:
                failed[id_] = failed.pop(id_)  # moved to the end, in the order given


def _first(item: tuple[int, BatchOutcome]) -> int:
    """Sort key: the batch index."""
    return item[0]


def _reorder(ids: list[str], start: int, mine: list[str]) -> None:
    """Put ``mine`` in the slots of ``ids[start:]`` that hold them, in the order of ``mine``.

    Ids another call put in the same report (a report shared by calls) keep their slots.
    """
    if len(ids) - start == len(mine):  # the usual case: nobody else wrote to this report
        ids[start:] = mine
        return
    own = set(mine)
    supply = iter(mine)
    ids[start:] = [next(supply, id_) if id_ in own else id_ for id_ in ids[start:]]

# -- what verification learned -----------------------------------------------------------------


_MOVED_TO_FAILED = {
    OrderState.FILLED: "filled before the cancel took effect (order info status 6)",
    OrderState.FAILED: "the order failed and was never live (order info status 10)",
    OrderState.NOT_FOUND: ("order info does not know it: it never existed, or HTX has forgotten "
                           "it (cancelled orders about 2 h, client order ids 8 h, finished "
                           "orders at each funding settlement)"),
}


def fold_states(report: CancelReport, states: Mapping[str, OrderState], unread: Mapping[str, str],
                recancels: Mapping[str, int], recancel_failures: Mapping[str, Failure],
                recancel_unknown: Mapping[str, str]) -> None:
    """Move each id of ``report`` to where what verification learned puts it, in one go
    (``fold_steps`` is the same a slice at a time)."""
    for _ in fold_steps(report, states, unread, recancels, recancel_failures, recancel_unknown):
        pass


def fold_steps(report: CancelReport, states: Mapping[str, OrderState], unread: Mapping[str, str],
               recancels: Mapping[str, int], recancel_failures: Mapping[str, Failure],
               recancel_unknown: Mapping[str, str], step: int = FOLD_STEP) -> Iterator[int]:
    """Move each id of ``report`` to where what verification learned puts it.

    A generator: it yields (the ids folded so far) after every ``step`` ids, so that an
    asyncio caller can give the loop back between slices; the report is written at the end,
    all at once, after the last slice.

    ``states`` holds each id's state as last learned (none for an id re-cancelled since, until
    it is asked again), ``unread`` why an id's state could not be learned, ``recancels`` how
    many more cancels verification sent for each id, and the last re-cancel's per-id failure or
    lost answer. The rules (see docs/verifying.md):

    - cancelled or unknown, now cancelled (or a strategy order gone): cancelled;
    - cancelled, now filled or failed; unknown, now filled, failed or not found: failed (1061);
    - cancelled, now not found: stays cancelled (accepted, then forgotten by the exchange);
    - cancelled or unknown, still live at the end: failed (the last re-cancel's failure, or
      code 0 "still open after N more cancels");
    - cancelled or unknown, still cancelling at the deadline: unknown;
    - re-cancelled, then not learned: what the re-cancel answered;
    - failed: stays failed (its state is still recorded);
    - never learned: stays where it is; an unknown id's reason says why verification failed.
    """
    cancelled: list[str] = []
    unknown: list[str] = []
    reasons: dict[str, str] = {}
    failed: dict[str, Failure] = {}
    old = report.unknown_reasons
    done = 0
    for id_, was_unknown in [*((i, False) for i in report.cancelled),
                             *((i, True) for i in report.unknown)]:
        done += 1
        if done % step == 0:
            yield done
        state = states.get(id_)
        if state is None:
            if id_ in recancel_failures:
                failed[id_] = recancel_failures[id_]
            elif id_ in recancel_unknown:
                unknown.append(id_)
                reasons[id_] = f"re-cancelled, {recancel_unknown[id_]}"
            elif recancels.get(id_) or not was_unknown:
                cancelled.append(id_)  # a cancel was accepted; what followed is not known
            else:
                unknown.append(id_)
                why = unread.get(id_, "verification could not learn its state")
                reasons[id_] = f"{old.get(id_, 'no answer')}; {why}"
        elif state.cancelled or state is OrderState.GONE:
            cancelled.append(id_)
        elif state.live:
            n = recancels.get(id_, 0)
            failed[id_] = recancel_failures.get(id_) or Failure(
                STILL_OPEN, f"still {state.value} after {n} more cancel{'s' * (n != 1)}")
        elif state is OrderState.CANCELLING:
            unknown.append(id_)
            reasons[id_] = "still cancelling when verification's deadline came"
        elif state is OrderState.NOT_FOUND and not was_unknown:
            cancelled.append(id_)
        else:
            failed[id_] = Failure(NOT_CANCELLED, _MOVED_TO_FAILED[state])
    yield done
    report.failed.update(failed)
    report.cancelled[:] = cancelled
    report.unknown[:] = unknown
    old.clear()
    old.update(reasons)
    asked = {*report.cancelled, *report.failed, *report.unknown}
    report.states.update((i, st) for i, st in states.items() if i in asked)
