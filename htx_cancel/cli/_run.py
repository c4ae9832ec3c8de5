"""Running cancels one request-sized slice at a time, so progress and Ctrl-C see each batch.

Every job's ids are cut into slices of exactly one request (the endpoint's batch size) and each
slice is one client call; all of them run at once on one CancelClient, so the client's limiter
orders them. A slice's report lands in the :class:`Tally` as soon as its request is settled:
that drives the progress bar, and on Ctrl-C the tally holds exactly what the exchange confirmed.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from .._catalog import Endpoint, Margin, endpoint_for
from .._client import CancelClient
from .._ids import chunk
from .._report import BatchRecord, CancelReport, Failure
from ._inputs import id_field, lib_kind
from ._progress import Tracker

__all__ = ["Call", "Job", "Tally", "make_job", "run_jobs"]

Call = Callable[[CancelClient, list[str]], Awaitable[CancelReport]]


@dataclass(frozen=True, slots=True)
class Job:
    """Validated, distinct ids of one kind and margin, and the client call for a slice of them."""

    kind: str
    endpoint: Endpoint
    id_field: str
    ids: list[str]
    call: Call

    @property
    def key(self) -> str:
        """The progress row / summary row this job belongs to."""
        return row_key(self.endpoint.name, self.id_field)

    def slices(self) -> list[list[str]]:
        """The ids cut into one request each."""
        return [list(part) for part in chunk(self.ids, self.endpoint.max_ids)]


def row_key(endpoint: str, field_: str | None) -> str:
    """``swap_cancel``, or ``swap_cancel (cid)`` for client order ids."""
    return f"{endpoint} (cid)" if field_ == "client_order_id" else endpoint


def _call(kind: str, contract: str, margin: Margin) -> Call:
    """The client method that cancels ids of ``kind``."""
    if kind == "regular":
        return lambda c, ids: c.cancel_orders(contract, order_ids=ids, margin=margin)
    if kind == "client":
        return lambda c, ids: c.cancel_orders(contract, client_order_ids=ids, margin=margin)
    if kind == "trigger":
        return lambda c, ids: c.cancel_trigger_orders(contract, ids, margin=margin)
    if kind == "tpsl":
        return lambda c, ids: c.cancel_tpsl_orders(contract, ids, margin=margin)
    if kind == "track":
        return lambda c, ids: c.cancel_track_orders(contract, ids, margin=margin)
    raise ValueError(f"unknown kind {kind!r}")


def make_job(kind: str, contract: str, margin: Margin, ids: Sequence[str]) -> Job:
    """A job for already validated, distinct ids."""
    endpoint = endpoint_for(lib_kind(kind), margin)
    return Job(kind, endpoint, id_field(kind), list(ids), _call(kind, contract, margin))


@dataclass(slots=True)
class Tally:
    """Every settled id so far, merged from the slices' reports."""

    cancelled: list[str] = field(default_factory=list)
    failed: dict[str, Failure] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)
    batches: list[BatchRecord] = field(default_factory=list)
    interrupted: bool = False

    def add(self, report: CancelReport) -> None:
        """Fold one call's report in."""
        self.cancelled += report.cancelled
        self.failed.update(report.failed)
        for id_ in report.unknown:
            self.unknown[id_] = report.unknown_reasons.get(id_, "")
        self.batches += report.batches

    def settled(self) -> set[str]:
        """Ids with an outcome."""
        return {*self.cancelled, *self.failed, *self.unknown}

    @property
    def ok(self) -> bool:
        """True when nothing failed, nothing is unknown and the run was not interrupted."""
        return not self.failed and not self.unknown and not self.interrupted


def _interleave(jobs: Sequence[Job]) -> list[tuple[Job, list[str]]]:
    """Slices taken round-robin across jobs, so every endpoint starts at once."""
    per_job = [[(job, part) for part in job.slices()] for job in jobs]
    mixed = itertools.chain.from_iterable(itertools.zip_longest(*per_job))
    return [item for item in mixed if item is not None]


async def _slice(client: CancelClient, job: Job, part: list[str], tally: Tally,
                 tracker: Tracker) -> None:
    """One request's worth of ids: cancel, record, advance the progress."""
    report = await job.call(client, part)
    tally.add(report)
    tracker.advance(job.key, len(part), sum(b.attempts for b in report.batches))


async def run_jobs(client: CancelClient, jobs: Sequence[Job], tally: Tally,
                   tracker: Tracker) -> None:
    """Run every slice of every job concurrently; on cancellation, mark the tally interrupted."""
    try:
        async with asyncio.TaskGroup() as group:
            for job, part in _interleave(jobs):
                group.create_task(_slice(client, job, part, tally, tracker))
    except asyncio.CancelledError:
        tally.interrupted = True
        raise


def pending(jobs: Sequence[Job], tally: Tally) -> list[str]:
    """Ids asked about that have no outcome yet (after an interruption)."""
    settled = tally.settled()
    return [id_ for job in jobs for id_ in job.ids if id_ not in settled]
