"""What became of every id: the report, and the pure functions that merge answers into it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import msgspec

from ._errors import CancelFailed
from ._models import BatchData, ErrorItem

__all__ = [
    "BatchOutcome",
    "BatchRecord",
    "CancelReport",
    "Failure",
    "code_of",
    "fail_all",
    "merge_all",
    "merge_batch",
    "unknown_all",
]

REPEATED_CANCEL = 1071
CANCELLING = 1062


class Failure(msgspec.Struct, frozen=True):
    """Why the exchange did not cancel an id: HTX's ``err_code`` and ``err_msg``."""

    code: int
    message: str


@dataclass(slots=True)
class BatchRecord:
    """One request's story, for users who measure. Times come from the client's clock.

    ``outcome`` is ``"ok"`` (the exchange answered for the ids), ``"failed"`` (a whole-request
    error, in ``error``) or ``"unknown"`` (no answer could be learned). ``error`` describes the
    last attempt (None when it succeeded, or a note such as 1051 for an empty cancel-all).
    ``queued_at`` is when the batch was handed to the limiter, ``sent_at`` when its last attempt
    left, ``answered_at`` when that attempt's answer (or error) came back.
    """

    endpoint: str
    ids: tuple[str, ...]
    id_field: str | None = None
    attempts: int = 0
    status: int | None = None
    error: str | None = None
    outcome: Literal["pending", "ok", "failed", "unknown"] = "pending"
    queued_at: float = 0.0
    sent_at: float = 0.0
    answered_at: float = 0.0

    @property
    def latency(self) -> float:
        """Seconds from the last send to its answer."""
        return self.answered_at - self.sent_at


@dataclass(slots=True)
class CancelReport:
    """Every id asked about, in exactly one of ``cancelled``, ``failed`` or ``unknown``.

    ``cancelled`` and ``unknown`` are lists in the order the ids were given; ``failed`` maps an id
    to a :class:`Failure`; ``unknown_reasons`` says why each unknown id has no answer.
    """

    cancelled: list[str] = field(default_factory=list)
    failed: dict[str, Failure] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    unknown_reasons: dict[str, str] = field(default_factory=dict)
    batches: list[BatchRecord] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many distinct ids the report accounts for."""
        return len(self.cancelled) + len(self.failed) + len(self.unknown)

    @property
    def ok(self) -> bool:
        """True when every id was confirmed cancelled and every request was answered.

        (A cancel-all whose request failed names no ids, so its batch decides.)
        """
        return (not self.failed and not self.unknown
                and all(b.outcome == "ok" for b in self.batches))

    @property
    def failed_batches(self) -> list[BatchRecord]:
        """The requests that ended without an answer for their ids."""
        return [b for b in self.batches if b.outcome in ("failed", "unknown")]

    def raise_for_failures(self) -> CancelReport:
        """Raise :class:`CancelFailed` unless every id was cancelled; return self otherwise."""
        if not self.ok:
            raise CancelFailed(self)
        return self

    def add(self, other: BatchOutcome) -> None:
        """Fold one batch's outcome in."""
        self.cancelled.extend(other.cancelled)
        self.failed.update(other.failed)
        for id_, reason in other.unknown.items():
            self.unknown.append(id_)
            self.unknown_reasons[id_] = reason

    def __repr__(self) -> str:
        return (
            f"CancelReport(cancelled={len(self.cancelled)}, failed={len(self.failed)}, "
            f"unknown={len(self.unknown)}, batches={len(self.batches)})"
        )


@dataclass(slots=True)
class BatchOutcome:
    """The outcome of one batch, before it is folded into a report."""

    cancelled: list[str] = field(default_factory=list)
    failed: dict[str, Failure] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)


def code_of(raw: int | str | None) -> int:
    """HTX codes are ints but sometimes arrive as strings."""
    if isinstance(raw, int):
        return raw
    try:
        return int(raw or 0)
    except ValueError:
        return -1


def _item_id(item: ErrorItem) -> str:
    """The id an error item names (order id, or client order id for client-id cancels)."""
    raw = item.order_id if item.order_id not in (None, "") else item.client_order_id
    return "" if raw is None else str(raw)


def merge_batch(ids: Sequence[str], data: BatchData | None, *, retried: bool) -> BatchOutcome:
    """Merge a successful batch answer into one outcome per asked id.

    - An id in ``successes`` is cancelled, even when ``errors`` also lists it (1062 "cancelling"
      comes with the id in both lists: the exchange accepted the cancel).
    - 1071 "already cancelled" counts as cancelled only when ``retried`` (an earlier attempt of
      this batch may have reached the exchange and cancelled it); otherwise it is a failure, so a
      caller learns the order was not cancelled by this call.
    - An id the answer does not mention is unknown. Ids the answer names but nobody asked about
      are ignored.
    """
    out = BatchOutcome()
    if data is None:
        for id_ in ids:
            out.unknown[id_] = "answer had no data"
        return out
    if not data.errors and data.successes == ",".join(ids):  # the usual answer: all cancelled
        out.cancelled.extend(ids)
        return out
    successes = set(filter(None, (data.successes or "").split(",")))
    errors = {_item_id(item): item for item in data.errors}
    for id_ in ids:
        if id_ in successes:
            out.cancelled.append(id_)
            continue
        item = errors.get(id_)
        if item is None:
            out.unknown[id_] = "not named in the exchange's answer"
            continue
        code = code_of(item.err_code)
        if code == REPEATED_CANCEL and retried:
            out.cancelled.append(id_)
        else:
            out.failed[id_] = Failure(code, item.err_msg)
    return out


def merge_all(data: BatchData | None) -> BatchOutcome:
    """Outcome of a cancel-all answer: the ids it names, as cancelled or failed."""
    out = BatchOutcome()
    if data is None:
        return out
    successes = [s for s in (data.successes or "").split(",") if s]
    out.cancelled.extend(dict.fromkeys(successes))
    done = set(successes)
    for item in data.errors:
        id_ = _item_id(item)
        if id_ and id_ not in done:
            out.failed[id_] = Failure(code_of(item.err_code), item.err_msg)
    return out


def fail_all(ids: Iterable[str], failure: Failure) -> BatchOutcome:
    """A whole-request error: every id of the batch failed with it."""
    return BatchOutcome(failed=dict.fromkeys(ids, failure))


def unknown_all(ids: Iterable[str], reason: str) -> BatchOutcome:
    """No answer could be learned for the batch: every id is unknown, with the reason."""
    return BatchOutcome(unknown=dict.fromkeys(ids, reason))
