"""What became of every id: the report a cancel call returns, and its parts.

``CancelReport`` (every id in exactly one of cancelled, failed, unknown), ``BatchRecord`` (one
request's story), ``Failure`` (the exchange's code and message). Only the fold
(``htx_cancel._protocol``) writes them while a call runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import msgspec

from ._errors import AuthenticationError, HTXError
from ._models import Code
from ._order_state import OrderState

__all__ = ["NOT_SENT", "BatchRecord", "CancelFailed", "CancelReport", "Failure"]

NOT_SENT = "not-sent"


class Failure(msgspec.Struct, frozen=True):
    """Why an id was not cancelled: the exchange's own code and message.

    ``code`` is an int, or the string HTX sent when it is not numeric
    (``"api-signature-not-valid"``). ``"not-sent"`` means the request never left this machine
    (connection refused, DNS failure, connect timeout): the order was not touched.
    """

    code: Code
    message: str

    @property
    def number(self) -> int | None:
        """``code`` as a number, None when HTX sent words or the library names a condition
        (``"not-sent"``, ``"api-signature-not-valid"``): ``if (f.number or 0) > 1000``."""
        return self.code if isinstance(self.code, int) else None


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
    (empty unless the call verified; see docs/verifying.md). ``order_ids`` maps each client
    order id (v5: also algo client order id) that a v5 answer named to the exchange's own id
    for that order: v5 forgets a client id once its order is done, the order id stays.
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
    order_ids: dict[str, str] = field(default_factory=dict)

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

    def __repr__(self) -> str:
        return (
            f"CancelReport(cancelled={len(self.cancelled)}, failed={len(self.failed)}, "
            f"unknown={len(self.unknown)}, batches={len(self.batches)})"
        )


class CancelFailed(HTXError):
    """Some ids were not confirmed cancelled; ``report`` holds every outcome."""

    def __init__(self, report: CancelReport) -> None:
        text = (f"{len(report.failed)} failed and {len(report.unknown)} unknown "
                f"of {report.total} ids")
        if not report.total and report.failed_batches:
            text = f"the request failed: {report.failed_batches[-1].error}"
        super().__init__(text)
        self.report = report
