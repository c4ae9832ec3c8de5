"""Running cancels: one generic ``client.cancel()`` per job, each filling a report as it goes.

A job is one kind, margin and id field. Every job is one call of the client's generic
``cancel`` (the client cuts the ids into requests and its limiter orders them), all at once on
one CancelClient. Each call is handed a [`CancelReport`][htx_cancel.CancelReport] that the
client fills as each batch settles, and whose ``on_batch`` hook moves the progress display; on
Ctrl-C the reports hold exactly what the exchange confirmed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from .._catalog import Endpoint, Kind, Margin
from .._client import CancelClient
from .._order_state import OrderState
from .._report import BatchRecord, CancelReport, Failure
from ._inputs import endpoint_of, id_field
from ._progress import Tracker

__all__ = ["Job", "Outcome", "make_job", "pending", "row_key", "run_jobs"]


CLIENT_FIELDS = frozenset({"client_order_id", "algo_client_order_id"})


def row_key(endpoint: str, field_: str | None) -> str:
    """``swap_cancel``, or ``swap_cancel (cid)`` for client order ids."""
    return f"{endpoint} (cid)" if field_ in CLIENT_FIELDS else endpoint


@dataclass(slots=True)
class Job:
    """Validated, distinct ids of one kind, margin and id field, and the report they fill."""

    kind: Kind
    endpoint: Endpoint
    id_field: str
    contract: str
    margin: Margin | None
    ids: list[str]
    verify: bool = False
    report: CancelReport = field(default_factory=CancelReport)

    @property
    def key(self) -> str:
        """The progress row / summary row this job belongs to."""
        return row_key(self.endpoint.name, self.id_field)

    async def run(self, client: CancelClient) -> None:
        """Cancel every id (then verify, if asked); the report fills as batches settle."""
        if self.id_field in CLIENT_FIELDS:
            await client.cancel(self.kind, self.contract, client_order_ids=self.ids,
                                margin=self.margin, report=self.report, verify=self.verify)
        else:
            await client.cancel(self.kind, self.contract, self.ids, margin=self.margin,
                                report=self.report, verify=self.verify)

    def pending(self) -> list[str]:
        """Ids with no outcome yet (after an interruption)."""
        r = self.report
        settled = {*r.cancelled, *r.failed, *r.unknown}
        return [id_ for id_ in self.ids if id_ not in settled]


def make_job(kind: Kind, contract: str, margin: Margin | None, ids: Sequence[str], *,
             client_ids: bool = False, verify: bool = False, api: str = "v5") -> Job:
    """A job for already validated, distinct ids (client order ids with ``client_ids``).

    ``margin`` is v1's (None on v5).
    """
    endpoint = endpoint_of(api, kind, margin)
    return Job(kind, endpoint, id_field(endpoint, client_ids), contract, margin, list(ids),
               verify)


def pending(jobs: Sequence[Job]) -> list[str]:
    """Ids asked about that have no outcome yet (after an interruption)."""
    return [id_ for job in jobs for id_ in job.pending()]


def verified_cancelled(state: OrderState | None) -> bool:
    """True when verification found a failed id's order cancelled: it is gone, as asked.

    (The library already counts HTX's 1071, "already cancelled", as cancelled; this covers the
    other answers, such as an old order the cancel no longer finds but order info shows
    cancelled.) Filled, not found, gone (a strategy order: cancelled or triggered) and live
    orders stay failures.
    """
    return state is not None and state.cancelled


@dataclass(slots=True)
class Outcome:
    """What the runs' reports say, read together (each id is in exactly one report).

    An id a report lists as failed but that verification found cancelled (see
    ``verified_cancelled``) is read as cancelled: "make sure these are gone" is the common rerun.
    """

    reports: list[CancelReport]
    interrupted: bool = False

    @property
    def found_cancelled(self) -> list[str]:
        """Ids the cancel did not confirm but verification found cancelled."""
        return [id_ for r in self.reports for id_ in r.failed
                if verified_cancelled(r.states.get(id_))]

    @property
    def cancelled(self) -> list[str]:
        """Every cancelled id, report by report (those found cancelled after the others)."""
        return [*(id_ for r in self.reports for id_ in r.cancelled), *self.found_cancelled]

    @property
    def failed(self) -> dict[str, Failure]:
        """Every failed id with its failure (ids found cancelled are not failures)."""
        return {id_: f for r in self.reports for id_, f in r.failed.items()
                if not verified_cancelled(r.states.get(id_))}

    @property
    def unknown(self) -> dict[str, str]:
        """Every unknown id with its reason."""
        return {id_: r.unknown_reasons.get(id_, "") for r in self.reports for id_ in r.unknown}

    @property
    def states(self) -> dict[str, OrderState]:
        """Every id whose state verification learned (empty without verification)."""
        return {id_: s for r in self.reports for id_, s in r.states.items()}

    @property
    def batches(self) -> list[BatchRecord]:
        """Every request's record."""
        return [b for r in self.reports for b in r.batches]

    @property
    def auth_failure(self) -> Failure | None:
        """The exchange's rejection of the key or signature, which stopped a call (or None)."""
        return next((r.auth_failure for r in self.reports if r.auth_failure is not None), None)

    def settled(self) -> set[str]:
        """Ids with an outcome."""
        return {id_ for r in self.reports for id_ in (*r.cancelled, *r.failed, *r.unknown)}

    @property
    def ok(self) -> bool:
        """True when every id ended cancelled and the run was not interrupted.

        A cancel-all names no ids, so its request decides: it must have been answered.
        """
        return (not self.interrupted and not self.failed and not self.unknown
                and all(b.outcome == "ok" or b.ids for b in self.batches))


def _follow(job: Job, tracker: Tracker) -> None:
    """Move the job's progress row each time one of its batches settles."""
    settled = requests = 0

    def on_batch(record: BatchRecord) -> None:
        nonlocal settled, requests
        settled += len(record.ids)
        requests += record.attempts
        tracker.show(job.key, settled, requests)

    job.report.on_batch = on_batch


async def run_jobs(client: CancelClient, jobs: Sequence[Job], tracker: Tracker) -> None:
    """Run every job at once, with the progress display open while they run."""
    for job in jobs:
        tracker.add(job.key, len(job.ids))
        _follow(job, tracker)
    with tracker:
        async with asyncio.TaskGroup() as group:
            for job in jobs:
                group.create_task(job.run(client))
