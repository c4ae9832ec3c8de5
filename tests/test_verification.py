"""The verification driver, against a plain in-memory exchange and fake time."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from htx_cancel import (
    APIError,
    AuthenticationError,
    BatchRecord,
    CancelReport,
    Failure,
    TransportError,
)
from htx_cancel._order_state import OrderState
from htx_cancel._protocol import Target
from htx_cancel._verification import Verifier, VerifyPolicy
from htx_cancel.testing import FakeClock

INFO = "/linear-swap-api/v1/swap_order_info"
BIG = "9223372036854775807"


class Reads:
    """Order info and strategy listings over a dict of statuses; a scripted re-cancel."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.status: dict[str, int] = {}  # order id -> HTX status
        self.client: dict[str, str] = {}  # client order id -> order id
        self.listed: list[str] = []  # open strategy orders, in listing order
        self.calls: list[tuple[str, dict[str, Any], str]] = []
        self.errors: list[Exception] = []  # raised by the next requests, in order
        self.stubborn: set[str] = set()  # re-cancels leave these open
        self.settle_after: dict[str, float] = {}  # cancelling until this fake time
        self.recancels: list[tuple[str, ...]] = []
        self.on_page: dict[int, Any] = {}  # page -> callable run before answering it
        self.attempts: list[int | None] = []  # the attempts each request was allowed

    async def request(self, path: str, body: Mapping[str, Any], priority: str, *,
                      method: str = "POST", attempts: int | None = None) -> Any:
        self.calls.append((path, dict(body), priority))
        self.attempts.append(attempts)
        await asyncio.sleep(0)
        if self.errors:
            raise self.errors.pop(0)
        if path.endswith("order_info"):
            return self._info(body)
        return self._page(body)

    def _info(self, body: Mapping[str, Any]) -> Any:
        by_client = "client_order_id" in body
        asked = str(body["client_order_id" if by_client else "order_id"]).split(",")
        data = []
        for id_ in asked:
            oid = self.client.get(id_) if by_client else id_
            if oid is None or oid not in self.status:
                continue
            status = self.status[oid]
            if status == 11 and self.clock.now() >= self.settle_after.get(oid, 0):
                status = self.status[oid] = 7
            cid = next((c for c, o in self.client.items() if o == oid), None)
            data.append({"order_id": int(oid), "order_id_str": oid, "status": status,
                         "client_order_id": None if cid is None else int(cid)})
        if not data:
            raise APIError(1017, "Order doesnt exist.")
        return {"status": "ok", "data": data, "ts": 1}

    def _page(self, body: Mapping[str, Any]) -> Any:
        index, size = body["page_index"], body["page_size"]
        hook = self.on_page.pop(index, None)
        if hook is not None:
            hook()
        total = len(self.listed)
        pages = max(1, -(-total // size))
        chunk = self.listed[(index - 1) * size:index * size]
        return {"status": "ok", "data": {
            "orders": [{"order_id": int(i), "order_id_str": i} for i in chunk],
            "total_page": pages, "current_page": index, "total_size": total}, "ts": 1}

    async def recancel(self, target: Target) -> CancelReport:
        self.recancels.append(target.ids)
        report = CancelReport()
        report.batches.append(BatchRecord("swap_cancel", target.ids, target.field))
        for id_ in target.ids:
            oid = self.client.get(id_, id_) if target.field == "client_order_id" else id_
            if target.listed:
                if id_ not in self.stubborn and id_ in self.listed:
                    self.listed.remove(id_)
                report.cancelled.append(id_)
            elif self.status.get(oid) in (1, 2, 3, 4):
                if oid not in self.stubborn:
                    self.status[oid] = 7
                report.cancelled.append(id_)
            else:
                report.failed[id_] = Failure(1061, "This order doesn't exist.")
        return report

    def info_calls(self) -> list[dict[str, Any]]:
        return [body for path, body, _ in self.calls if path.endswith("order_info")]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def reads(clock: FakeClock) -> Reads:
    return Reads(clock)


async def run(reads: Reads, clock: FakeClock, report: CancelReport, targets: list[Target],
              deadline: float | None = None, **policy: Any) -> dict[str, OrderState]:
    verifier = Verifier(reads.request, reads.recancel, clock, deadline=deadline,
                        policy=VerifyPolicy(**policy))
    task = asyncio.create_task(verifier.run(report, targets))
    await clock.run_until(task.done)
    return task.result()


def regular(ids: list[str], field: str = "order_id", margin: str = "isolated") -> Target:
    return Target("order", margin, "BTC-USDT", field, tuple(ids))  # type: ignore[arg-type]


def accepted(*ids: str) -> CancelReport:
    return CancelReport(cancelled=list(ids))


async def test_cancelled_orders_are_confirmed_50_ids_per_read(reads: Reads,
                                                              clock: FakeClock) -> None:
    ids = [str(10**18 + i) for i in range(120)]
    reads.status.update(dict.fromkeys(ids, 7))
    report = accepted(*ids)
    states = await run(reads, clock, report, [regular(ids)])
    assert states == dict.fromkeys(ids, OrderState.CANCELLED)
    assert report.cancelled == ids and not report.failed and not report.unknown
    assert [len(b["order_id"].split(",")) for b in reads.info_calls()] == [50, 50, 20]
    assert {p for _, _, p in reads.calls} == {"high"}
    assert not reads.recancels


async def test_lost_answers_are_resolved(reads: Reads, clock: FakeClock) -> None:
    reads.status.update({"1": 7, "2": 6, "3": 5})
    report = CancelReport(unknown=["1", "2", "3", "4"],
                          unknown_reasons=dict.fromkeys("1234", "timeout"))
    states = await run(reads, clock, report, [regular(["1", "2", "3", "4"])])
    assert states == {"1": OrderState.CANCELLED, "2": OrderState.FILLED,
                      "3": OrderState.PARTIALLY_FILLED_CANCELLED, "4": OrderState.NOT_FOUND}
    assert report.cancelled == ["1", "3"]
    assert set(report.failed) == {"2", "4"} and report.failed["2"].code == 1061
    assert not report.unknown and not report.unknown_reasons


async def test_a_fill_before_the_cancel_moves_the_id_to_failed(reads: Reads,
                                                               clock: FakeClock) -> None:
    reads.status.update({BIG: 6, "5": 7})
    report = accepted(BIG, "5")
    states = await run(reads, clock, report, [regular([BIG, "5"])])
    assert states[BIG] is OrderState.FILLED
    assert report.cancelled == ["5"] and "filled" in report.failed[BIG].message


async def test_an_order_still_open_is_cancelled_again_and_verified(reads: Reads,
                                                                   clock: FakeClock) -> None:
    reads.status.update({"1": 3, "2": 4, "3": 7})
    report = accepted("1", "2", "3")
    states = await run(reads, clock, report, [regular(["1", "2", "3"])])
    assert reads.recancels == [("1", "2")]
    assert states == dict.fromkeys(["1", "2", "3"], OrderState.CANCELLED)
    assert sorted(report.cancelled) == ["1", "2", "3"] and not report.failed
    assert len(report.batches) == 1  # the re-cancel's request is in the report


async def test_an_order_that_stays_open_fails_after_the_recancels(reads: Reads,
                                                                  clock: FakeClock) -> None:
    reads.status["1"] = 3
    reads.stubborn.add("1")
    report = accepted("1")
    states = await run(reads, clock, report, [regular(["1"])], max_recancels=2)
    assert reads.recancels == [("1",), ("1",)]
    assert states == {"1": OrderState.OPEN}
    assert report.failed == {"1": Failure(0, "still open after 2 more cancels")}


async def test_a_cancelling_order_is_asked_again_with_backoff(reads: Reads,
                                                              clock: FakeClock) -> None:
    reads.status["1"] = 11
    reads.settle_after["1"] = clock.now() + 1.0
    report = accepted("1")
    start = clock.now()
    states = await run(reads, clock, report, [regular(["1"])], backoff=0.2)
    assert states == {"1": OrderState.CANCELLED} and report.cancelled == ["1"]
    assert len(reads.info_calls()) == 4  # at 0, 0.2, 0.6 and 1.4 s
    assert clock.now() - start == pytest.approx(1.4)


async def test_still_cancelling_at_the_deadline_is_unknown(reads: Reads,
                                                           clock: FakeClock) -> None:
    reads.status["1"] = 11
    reads.settle_after["1"] = clock.now() + 100
    report = accepted("1")
    states = await run(reads, clock, report, [regular(["1"])], deadline=clock.now() + 3)
    assert states == {"1": OrderState.CANCELLING}
    assert report.unknown == ["1"] and "cancelling" in report.unknown_reasons["1"]


async def test_each_read_is_allowed_the_policy_s_attempts_and_its_failure_is_final(
        reads: Reads, clock: FakeClock) -> None:
    # repeating a read is the attempt machine's job (tests/test_v5.py, test_client.py): the
    # verifier asks once, with the attempts allowed, and takes what comes back as final
    reads.status["1"] = 7
    reads.errors += [TransportError("reset")]
    report = accepted("1")
    states = await run(reads, clock, report, [regular(["1"])], attempts=3)
    assert states == {} and reads.attempts == [3]
    assert report.cancelled == ["1"]  # accepted, and nothing learned since


async def test_reads_that_fail_leave_the_unknown_ids_unknown_with_the_reason(
        reads: Reads, clock: FakeClock) -> None:
    reads.errors += [AuthenticationError(1253, "signature"), TransportError("a"),
                     TransportError("b")]
    report = CancelReport(cancelled=["2"], unknown=["1"], unknown_reasons={"1": "timeout"})
    states = await run(reads, clock, report, [regular(["1"]), regular(["2"])], attempts=2)
    assert states == {}
    assert report.cancelled == ["2"] and report.unknown == ["1"]
    assert report.unknown_reasons["1"].startswith("timeout; order info failed:")


async def test_1017_means_none_of_the_asked_orders_exists(reads: Reads,
                                                          clock: FakeClock) -> None:
    report = CancelReport(unknown=["1"], unknown_reasons={"1": "timeout"})
    states = await run(reads, clock, report, [regular(["1"])])
    assert states == {"1": OrderState.NOT_FOUND} and "1" in report.failed


async def test_client_order_ids_are_asked_by_client_id(reads: Reads, clock: FakeClock) -> None:
    reads.status.update({"100": 7, "200": 3})
    reads.client.update({BIG: "100", "42": "200"})
    report = accepted(BIG, "42")
    states = await run(reads, clock, report, [regular([BIG, "42"], "client_order_id")])
    assert states == {BIG: OrderState.CANCELLED, "42": OrderState.CANCELLED}
    assert reads.info_calls()[0] == {"contract_code": "BTC-USDT",
                                     "client_order_id": f"{BIG},42"}
    assert reads.recancels == [("42",)]


async def test_strategy_orders_not_listed_are_gone(reads: Reads, clock: FakeClock) -> None:
    reads.listed = [str(i) for i in range(1, 121)]  # 120 open: three pages
    mine = ["5", "119", "500", "501"]
    report = CancelReport(cancelled=["5", "500"], unknown=["119", "501"],
                          unknown_reasons=dict.fromkeys(["119", "501"], "lost"))
    tgt = Target("trigger", "cross", "BTC-USDT", "order_id", tuple(mine))
    states = await run(reads, clock, report, [tgt])
    pages = [b["page_index"] for p, b, _ in reads.calls if "openorders" in p]
    assert sorted(pages) == [1, 1, 2, 2, 3, 3]  # read once, and again after the re-cancel
    assert reads.recancels == [("5", "119")]
    assert states == {"5": OrderState.GONE, "119": OrderState.GONE, "500": OrderState.GONE,
                      "501": OrderState.GONE}
    assert sorted(report.cancelled) == sorted(mine)


async def test_a_listing_that_shifts_while_read_is_read_again(reads: Reads,
                                                              clock: FakeClock) -> None:
    reads.listed = [str(i) for i in range(1, 101)]  # two pages
    # Before page 2 is answered, an order on page 1 goes: "51" moves to page 1, unseen.
    reads.on_page[2] = lambda: reads.listed.remove("3")
    tgt = Target("tpsl", "isolated", "BTC-USDT", "order_id", ("51", "3"))
    reads.stubborn.add("51")
    states = await run(reads, clock, accepted("51", "3"), [tgt], max_recancels=0)
    assert states == {"51": OrderState.OPEN, "3": OrderState.GONE}


async def test_a_listing_that_never_settles_leaves_absent_ids_unsettled(
        reads: Reads, clock: FakeClock) -> None:
    reads.listed = [str(i) for i in range(1, 201)]
    for p in (2, 3, 4):
        reads.on_page[p] = lambda: reads.listed.pop(0)
    tgt = Target("track", "isolated", "BTC-USDT", "order_id", ("200", "1000"))
    report = CancelReport(unknown=["200", "1000"], unknown_reasons={"200": "x", "1000": "y"})
    states = await run(reads, clock, report, [tgt], listing_passes=1, max_recancels=0)
    assert states == {"200": OrderState.OPEN}  # listed, so certainly open
    assert report.unknown == ["1000"] and "kept changing" in report.unknown_reasons["1000"]
    assert report.failed["200"].code == 0


async def test_cancelling_the_call_leaves_no_task_behind(reads: Reads, clock: FakeClock) -> None:
    reads.status.update({str(i): 11 for i in range(1, 200)})
    reads.settle_after.update({str(i): 1e9 for i in range(1, 200)})
    ids = [str(i) for i in range(1, 200)]
    verifier = Verifier(reads.request, reads.recancel, clock)
    before = asyncio.all_tasks()
    task = asyncio.create_task(verifier.run(accepted(*ids), [regular(ids)]))
    await clock.advance(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert asyncio.all_tasks() == before


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        VerifyPolicy(attempts=0)
    with pytest.raises(ValueError):
        VerifyPolicy(backoff=-1)
    with pytest.raises(ValueError):
        VerifyPolicy(listing_passes=0)


async def test_other_api_errors_are_not_repeated(reads: Reads, clock: FakeClock) -> None:
    reads.errors.append(APIError(1014, "This contract doesn't exist."))
    report = CancelReport(unknown=["1"], unknown_reasons={"1": "lost"})
    await run(reads, clock, report, [regular(["1"])], attempts=3)
    assert len(reads.calls) == 1 and "1014" in report.unknown_reasons["1"]


async def test_batches_are_read_as_they_settle_50_ids_at_a_time(reads: Reads,
                                                                clock: FakeClock) -> None:
    ids = [str(10**18 + i) for i in range(60)]
    reads.status.update(dict.fromkeys(ids, 7))
    reads.status[ids[59]] = 3
    report = accepted(*ids)
    verifier = Verifier(reads.request, reads.recancel, clock)
    async with verifier:
        feed = verifier.feed("order", "isolated", "BTC-USDT")
        feed(BatchRecord("swap_cancel", tuple(ids[:25]), "order_id"))
        await clock.advance(0)
        assert reads.calls == []  # 25 ids wait for 25 more
        feed(BatchRecord("swap_cancel", tuple(ids[25:50]), "order_id"))
        feed(BatchRecord("swap_cancelall", ()))  # names no ids: ignored
        await clock.advance(0)
        assert [len(b["order_id"].split(",")) for b in reads.info_calls()] == [50]
        feed(BatchRecord("swap_cancel", tuple(ids[50:]), "order_id"))
        feed.flush()
        task = asyncio.create_task(verifier.run(report, [regular(ids)]))
        await clock.run_until(task.done)
        states = task.result()
    assert [len(b["order_id"].split(",")) for b in reads.info_calls()] == [50, 10, 1]
    assert reads.recancels == [(ids[59],)]  # decided after the cancel, from what was read
    assert states == dict.fromkeys(ids, OrderState.CANCELLED)


async def test_leaving_by_an_exception_cancels_the_reads(reads: Reads, clock: FakeClock) -> None:
    before = asyncio.all_tasks()
    verifier = Verifier(reads.request, reads.recancel, clock)
    reads.errors += [TransportError("x")] * 3  # the read retries wait on fake time
    with pytest.raises(KeyError):
        async with verifier:
            verifier.prefetch(regular(["1"]))
            await clock.advance(0)
            raise KeyError("the cancel failed")
    assert asyncio.all_tasks() == before


async def test_a_rejected_key_stops_the_reads(reads: Reads, clock: FakeClock) -> None:
    ids = [str(i) for i in range(1, 151)]
    reads.errors.append(AuthenticationError(1253, "signature"))
    report = CancelReport(unknown=ids, unknown_reasons=dict.fromkeys(ids, "lost"))
    await run(reads, clock, report, [regular(ids)], concurrency=1)
    assert len(reads.calls) == 1 and report.unknown == ids
    assert "not sent: HTX error 1253" in report.unknown_reasons["150"]


# -- v5: the listings, walked by order id --------------------------------------------------------


class V5Book:
    """v5's history and open-orders listing over a dict of states, paged by an id cursor."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.state: dict[str, str] = {}  # order id -> v5 state
        self.margin: dict[str, str] = {}
        self.client: dict[str, str] = {}  # order id -> client order id
        self.live_until: dict[str, float] = {}  # shown "new" until this fake time (the lag)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.recancels: list[tuple[str, ...]] = []

    def shown(self, oid: str) -> str:
        if self.clock.now() < self.live_until.get(oid, -1.0):
            return "new"
        return self.state[oid]

    async def request(self, path: str, body: Mapping[str, Any], priority: str, *,
                      method: str = "POST", attempts: int | None = None) -> Any:
        self.calls.append((path, dict(body)))
        await asyncio.sleep(0)
        if path == "/v5/trade/order":
            key = body.get("order_id")
            oid = key if key is not None else next(
                (o for o, c in self.client.items() if c == body["client_order_id"]
                 and self.shown(o) in ("new", "partially_filled")), None)
            if oid is None or oid not in self.state:
                raise APIError(1061, "This order doesn't exist.")
            return {"code": 200, "data": {"order_id": oid, "state": self.shown(oid)}}
        live = path.endswith("opens")
        rows = sorted((o for o in self.state
                       if (self.shown(o) in ("new", "partially_filled")) == live
                       and (live or self.margin.get(o, "cross") == body["margin_mode"])),
                      key=int)
        cursor = int(body.get("from", 0))
        if body["direct"] == "next":
            page = [o for o in rows if int(o) > cursor][:100]
        else:
            page = [o for o in rows if cursor == 0 or int(o) < cursor][-100:]
        return {"code": 200, "data": [{"order_id": o, "client_order_id": self.client.get(o, o),
                                       "state": self.shown(o)} for o in page]}

    async def recancel(self, target: Target) -> CancelReport:
        self.recancels.append(target.ids)
        for id_ in target.ids:
            self.state[id_] = "canceled"
        return CancelReport(cancelled=list(target.ids))

    def paths(self) -> list[str]:
        return [p for p, _ in self.calls]


def v5_target(ids: list[str], field: str = "order_id") -> Target:
    return Target("order", None, "BTC-USDT", field, tuple(ids), "v5")


async def run_v5(book: V5Book, clock: FakeClock, ids: list[str], field: str = "order_id",
                 **policy: Any) -> tuple[CancelReport, dict[str, OrderState]]:
    verifier = Verifier(book.request, book.recancel, clock, policy=VerifyPolicy(**policy))
    report = CancelReport(cancelled=list(ids))
    task = asyncio.create_task(verifier.run(report, [v5_target(ids, field)]))
    while not task.done():
        await clock.advance(0.05)
    return report, task.result()


async def test_v5_walks_the_history_by_order_id_jumping_over_others(
        book: V5Book, clock: FakeClock) -> None:
    ours = [str(10_000 + i) for i in range(150)] + [str(90_000 + i) for i in range(50)]
    others = [str(20_000 + i) for i in range(5_000)]  # between our two stretches
    for oid in ours + others:
        book.state[oid] = "canceled"
    book.state[ours[3]] = "filled"
    book.state[ours[-1]] = "new"  # truly open
    _, states = await run_v5(book, clock, ours)
    assert states[ours[3]] is OrderState.FILLED and states[ours[0]] is OrderState.CANCELLED
    assert states[ours[-1]] is OrderState.CANCELLED  # open twice, cancelled again
    assert book.recancels == [(ours[-1],)]
    history = [b for p, b in book.calls if p.endswith("history")]
    assert len(history) <= 5  # 200 ids: two pages, a jump over the 5,000 others, the re-reads
    assert [b["from"] for b in history[:3]] == ["9999", "10099", "89999"]


async def test_v5_lag_is_read_again_not_cancelled_again(book: V5Book, clock: FakeClock) -> None:
    ids = [str(100 + i) for i in range(10)]
    for oid in ids:
        book.state[oid] = "canceled"
        book.live_until[oid] = 0.1  # shown new for 0.1 s after the answer
    report, states = await run_v5(book, clock, ids, backoff=0.2)
    assert book.recancels == [] and states == dict.fromkeys(ids, OrderState.CANCELLED)
    assert report.cancelled == ids


async def test_v5_learns_the_margin_mode_once(book: V5Book, clock: FakeClock) -> None:
    ids = [str(100 + i) for i in range(10)]
    for oid in ids:
        book.state[oid] = "canceled"
        book.margin[oid] = "isolated"
    _, states = await run_v5(book, clock, ids)
    assert states == dict.fromkeys(ids, OrderState.CANCELLED)
    modes = [b["margin_mode"] for p, b in book.calls if p.endswith("history")]
    assert modes == ["cross", "isolated"]


async def test_v5_client_ids_walk_down_from_the_newest_and_settle_what_is_forgotten(
        book: V5Book, clock: FakeClock) -> None:
    oids = [str(1000 + i) for i in range(30)]
    for oid in oids:
        book.state[oid] = "canceled"
        book.client[oid] = f"7{oid}"
    cids = [f"7{o}" for o in oids] + ["99"]  # 99: no listing shows it; info does not know it
    report, states = await run_v5(book, clock, cids, field="client_order_id")
    assert all(states[c] is OrderState.CANCELLED for c in cids[:-1])
    assert states["99"] is OrderState.NOT_FOUND and "99" in report.cancelled
    listings = [b for p, b in book.calls if p != "/v5/trade/order"]
    assert all(b["direct"] == "prev" for b in listings)
    assert book.paths().count("/v5/trade/order") == 1  # asked once, then settled


@pytest.fixture
def book(clock: FakeClock) -> V5Book:
    return V5Book(clock)
