"""What became of every id: the report, and the pure functions that merge answers into it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import msgspec

from ._errors import AuthenticationError, HTXError
from ._models import BatchData, Code, ErrorItem, Item, code_of
from ._states import OrderState

__all__ = [
    "BatchOutcome",
    "BatchRecord",
    "CancelFailed",
    "CancelReport",
    "Failure",
    "fail_all",
    "merge_all",
    "merge_batch",
    "merge_items",
    "merge_items_all",
    "unknown_all",
]

REPEATED_CANCEL = 1071  # "already cancelled": the order is gone, which is what was asked
ITEM_OK = frozenset({200, 0})  # a v5 item's success code (gocryptotrader also reads 0)


NOT_SENT = "not-sent"


class Failure(msgspec.Struct, frozen=True):
    """Why an id was not cancelled: the exchange's own code and message.

    ``code`` is an int, or the string HTX sent when it is not numeric
    (``"api-signature-not-valid"``). ``"not-sent"`` means the request never left this machine
    (connection refused, DNS failure, connect timeout): the order was not touched.
    """

    code: Code
    message: str


@dataclass(slots=True)
class BatchRecord:
    """One request's story, for users who measure. Times come from the client's clock.

    ``outcome`` is ``"ok"`` (the exchange answered for the ids), ``"failed"`` (a whole-request
    error, in ``error``) or ``"unknown"`` (no answer could be learned). ``error`` describes the
    last attempt (None when it succeeded, or a note such as 1051 for an empty cancel-all);
    ``errors`` keeps what went wrong with every attempt that did not settle the batch.
    ``queued_at`` is when the batch was handed to the limiter, ``sent_at`` when its last attempt
    left, ``answered_at`` when that attempt's answer (or error) came back.
    """

    endpoint: str
    ids: tuple[str, ...]
    id_field: str | None = None
    attempts: int = 0
    status: int | None = None
    error: str | None = None
    errors: tuple[str, ...] = ()
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

    Pass one to a cancel call (``report=``) to watch it fill: each batch's ids are folded in the
    moment the batch settles, so a caller that times out or cancels the call still holds every
    id the exchange confirmed before that moment. While the call runs the lists are in the
    order batches settled; when it ends (however it ends) they are put in the order given.
    ``auth_failure`` is set when the exchange rejected the key or signature and the call
    stopped there (its other batches failed with it without being sent). ``on_batch``, if set,
    is called with each batch's record as soon as that batch is settled and folded in (the
    report already holds its ids).
    ``states`` maps each id whose state verification learned to its :class:`OrderState`
    (empty unless the call verified; see docs/verifying.md).
    """

    cancelled: list[str] = field(default_factory=list)
    failed: dict[str, Failure] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    unknown_reasons: dict[str, str] = field(default_factory=dict)
    batches: list[BatchRecord] = field(default_factory=list)
    auth_failure: Failure | None = None
    on_batch: Callable[[BatchRecord], None] | None = field(default=None, repr=False,
                                                           compare=False)
    states: dict[str, OrderState] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """How many distinct ids the report accounts for."""
        return len(self.cancelled) + len(self.failed) + len(self.unknown)

    @property
    def ok(self) -> bool:
        """True when every id was confirmed cancelled and every cancel-all was answered.

        A by-id request is judged by its ids (an answer lost on the way but settled by
        verification is no failure); a cancel-all names no ids, so its request decides.
        """
        return (not self.failed and not self.unknown
                and all(b.outcome == "ok" or b.ids for b in self.batches))

    @property
    def failed_batches(self) -> list[BatchRecord]:
        """The requests that ended without an answer for their ids."""
        return [b for b in self.batches if b.outcome in ("failed", "unknown")]

    def raise_for_failures(self) -> CancelReport:
        """Return self when every id was cancelled; raise otherwise.

        Raises :class:`~htx_cancel.AuthenticationError` when the exchange rejected the key or
        signature (the call stopped there), else :class:`CancelFailed` with this report.
        """
        if self.auth_failure is not None:
            failure = self.auth_failure
            raise AuthenticationError(failure.code, failure.message)
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


class CancelFailed(HTXError):
    """Some ids were not confirmed cancelled; ``report`` holds every outcome."""

    def __init__(self, report: CancelReport) -> None:
        text = (f"{len(report.failed)} failed and {len(report.unknown)} unknown "
                f"of {report.total} ids")
        if not report.total and report.failed_batches:
            text = f"the request failed: {report.failed_batches[-1].error}"
        super().__init__(text)
        self.report = report


def _item_id(item: ErrorItem) -> str:
    """The id an error item names (order id, or client order id for client-id cancels)."""
    raw = item.order_id if item.order_id not in (None, "") else item.client_order_id
    return "" if raw is None else str(raw)


def merge_batch(ids: Sequence[str], data: BatchData | None) -> BatchOutcome:
    """Merge a successful v1 batch answer into one outcome per asked id.

    - An id in ``successes`` is cancelled, even when ``errors`` also lists it (1062 "cancelling"
      comes with the id in both lists: the exchange accepted the cancel).
    - 1071 "already cancelled" is cancelled: the order is gone, by this call or an earlier one.
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
        _put(out, id_, code_of(item.err_code), item.err_msg)
    return out


def _put(out: BatchOutcome, id_: str, code: Code | None, message: str) -> None:
    """One id's per-item result: success codes and 1071 are cancelled, anything else failed."""
    if code is None or code in ITEM_OK or code == REPEATED_CANCEL:
        out.cancelled.append(id_)
    else:
        out.failed[id_] = Failure(code, message)


def _item_code(item: Item) -> Code | None:
    """A v5 item's code: ``code`` (or ``error_code``); ``success`` alone is 200 or "failed".

    None means the item carries no verdict of its own (``cancel_order`` answers the bare ids):
    the envelope's success stands for it.
    """
    raw = item.code if item.code is not None else item.error_code
    if raw is not None:
        return code_of(raw)
    if item.success is None:
        return None
    return 200 if item.success else "failed"


def merge_items(ids: Sequence[str], field: str, items: Sequence[Item]) -> BatchOutcome:
    """Merge a successful v5 answer's per-id items into one outcome per asked id.

    Items are matched by the id in the request's own ``field`` (``order_id``,
    ``client_order_id``, ``algo_id``, ``algo_client_order_id``), never by position: HTX answers
    in another order, and names both ids of an order. The item rules are those of
    :func:`merge_batch`; an id no item names is unknown.
    """
    out = BatchOutcome()
    by_id: dict[str, Item] = {}
    for item in items:
        key = item.id_for(field)
        if key:
            by_id.setdefault(key, item)
    for id_ in ids:
        named = by_id.get(id_)
        if named is None:
            out.unknown[id_] = "not named in the exchange's answer"
        else:
            _put(out, id_, _item_code(named), named.text())
    return out


def merge_items_all(items: Sequence[Item]) -> BatchOutcome:
    """Outcome of a v5 cancel-all answer: every order id it names, cancelled or failed."""
    out = BatchOutcome()
    for item in items:
        id_ = item.id_for("order_id") or item.id_for("algo_id")
        if id_ and id_ not in out.failed and id_ not in out.cancelled:
            _put(out, id_, _item_code(item), item.text())
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
