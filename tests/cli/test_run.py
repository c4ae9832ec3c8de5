"""The runner: jobs on the client's generic cancel, progress moved by each settled batch."""

from __future__ import annotations

from types import TracebackType

from htx_cancel import CancelClient, CancelReport, Credentials, Failure, OrderState
from htx_cancel.cli._run import Outcome, make_job, pending, run_jobs
from htx_cancel.testing import FakeExchange


class Recorder:
    """A tracker that remembers what it was shown."""

    def __init__(self) -> None:
        self.rows: dict[str, int | None] = {}
        self.shown: dict[str, tuple[int, int]] = {}

    def add(self, key: str, total: int | None) -> None:
        self.rows[key] = total

    def show(self, key: str, ids: int, requests: int) -> None:
        self.shown[key] = (ids, requests)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None


async def test_progress_moves_with_each_settled_batch() -> None:
    job = make_job("order", "BTC-USDT", "cross", ["1", "2", "3"], client_ids=True, api="v1")
    assert (job.kind, job.endpoint.name, job.key) == ("order", "swap_cross_cancel",
                                                      "swap_cross_cancel (cid)")
    tracker = Recorder()
    async with (FakeExchange({"k": "s"}) as ex,
                CancelClient(Credentials("k", "s"), api="v1", base_url=ex.base_url) as client):
        await run_jobs(client, [job], tracker)
    assert tracker.rows == {"swap_cross_cancel (cid)": 3}
    assert tracker.shown == {"swap_cross_cancel (cid)": (3, 1)}
    assert sorted(job.report.failed) == ["1", "2", "3"]  # no such orders: 1061
    assert pending([job]) == []
    job.report.unknown.append("4")  # a report read as it stands
    job.ids.append("5")
    assert pending([job]) == ["5"]


async def test_jobs_run_on_the_generic_cancel_and_fill_their_reports() -> None:
    async with FakeExchange({"k": "s"}) as ex:
        regular = ex.seed("BTC-USDT", "order", "isolated", 60, with_client_ids=True)
        cids = [str(ex.client_id_of(oid)) for oid in regular[:10]]
        trigger = ex.seed("BTC-USDT", "trigger", "cross", 12)
        jobs = [make_job("order", "BTC-USDT", "isolated", regular[10:], api="v1"),
                make_job("order", "BTC-USDT", "isolated", cids, client_ids=True, api="v1"),
                make_job("trigger", "BTC-USDT", "cross", trigger, api="v1")]
        tracker = Recorder()
        async with CancelClient(Credentials("k", "s"), api="v1", base_url=ex.base_url) as client:
            await run_jobs(client, jobs, tracker)
        assert ex.open_ids() == set()
    assert [job.report.cancelled for job in jobs] == [regular[10:], cids, trigger]
    assert tracker.rows == {"swap_cancel": 50, "swap_cancel (cid)": 10,
                            "swap_cross_trigger_cancel": 12}
    assert tracker.shown == {"swap_cancel": (50, 2), "swap_cancel (cid)": (10, 1),
                             "swap_cross_trigger_cancel": (12, 2)}
    outcome = Outcome([job.report for job in jobs])
    assert outcome.ok and len(outcome.cancelled) == 72 and len(outcome.batches) == 5
    assert pending(jobs) == []


def test_a_failed_id_verified_cancelled_is_cancelled() -> None:
    report = CancelReport()
    report.cancelled.append("1")
    report.failed.update({"2": Failure(1061, "This order doesn't exist."),
                          "3": Failure(1061, "This order doesn't exist."),
                          "4": Failure(1061, "This order doesn't exist.")})
    report.states.update({"1": OrderState.CANCELLED, "2": OrderState.CANCELLED,
                          "3": OrderState.FILLED, "4": OrderState.GONE})
    outcome = Outcome([report])
    assert outcome.cancelled == ["1", "2"] and outcome.found_cancelled == ["2"]
    assert sorted(outcome.failed) == ["3", "4"] and not outcome.ok
    del report.failed["3"], report.failed["4"]
    assert outcome.ok and outcome.failed == {}
