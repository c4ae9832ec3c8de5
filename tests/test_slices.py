"""Work proportional to the number of ids gives the loop back between slices.

Validation before a cancel, the report's ordering after it and verification's fold each run a
slice at a time; what they produce is the same as in one go, and bad input is still refused
before anything is sent.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from htx_cancel import CancelClient, CancelReport, Credentials, Failure, OrderState
from htx_cancel._protocol import BatchOutcome, Call, fold_states, fold_steps
from htx_cancel.testing import MockRequest, MockTransport

from ._loop import Iterations
from ._replies import replying


def items_ok(request: MockRequest) -> dict[str, Any]:
    return {"code": 200, "message": "Success", "ts": 1,
            "data": [{"order_id": i, "code": 200} for i in request.body["order_id"]]}


async def iterations_before_the_first_request(ids: list[Any]) -> tuple[int, CancelClient]:
    seen: list[int] = []
    with Iterations() as it:
        def handler(request: MockRequest) -> dict[str, Any]:
            seen.append(it.n)
            return items_ok(request)

        client = CancelClient(Credentials("a", "b"), rate_limits=None,
                              transport=MockTransport(replying(handler)))
        start = it.n
        report = await client.cancel_orders("BTC-USDT", ids)
        await client.close()
    assert len(report.cancelled) == len(set(ids))
    return seen[0] - start, client


async def test_validating_many_ids_yields_between_slices() -> None:
    few, _ = await iterations_before_the_first_request([str(i) for i in range(1, 501)])
    many, _ = await iterations_before_the_first_request([i for i in range(1, 10_001)] * 2)
    assert many >= few + 19  # 20,000 ids checked 1,000 at a time, with a yield after each


async def test_a_bad_id_late_in_many_is_refused_before_anything_is_sent() -> None:
    transport = MockTransport(replying(items_ok))
    client = CancelClient(Credentials("a", "b"), rate_limits=None, transport=transport)
    ids: list[Any] = [str(i) for i in range(1, 9_000)] + ["12x"]
    with pytest.raises(ValueError, match="12x"):
        await client.cancel_orders("BTC-USDT", ids)
    with pytest.raises(ValueError, match="single str"):
        await client.cancel_orders("BTC-USDT", "123")  # type: ignore[arg-type]
    await client.close()
    assert transport.requests == []


def settled_out_of_order(n_batches: int, seed: int) -> tuple[Call, list[str]]:
    ids = [str(10**17 + i) for i in range(n_batches * 10)]
    batches = [ids[i:i + 10] for i in range(0, len(ids), 10)]
    order = list(range(n_batches))
    random.Random(seed).shuffle(order)
    call = Call(None, "high", CancelReport())
    for i in order:
        part = batches[i]
        call.settle(i, BatchOutcome(cancelled=part[:8], failed={part[8]: Failure(1061, "x")},
                                    unknown={part[9]: "lost"}), None)  # type: ignore[arg-type]
    return call, ids


@pytest.mark.parametrize("seed", range(4))
def test_the_report_is_put_in_order_a_slice_at_a_time(seed: int) -> None:
    one_go, ids = settled_out_of_order(300, seed)
    one_go.finish()
    sliced, _ = settled_out_of_order(300, seed)
    steps = sliced.finish_steps(step=500)
    next(steps)
    assert sliced.report.cancelled != one_go.report.cancelled  # nothing written yet
    rest = sum(1 for _ in steps)
    assert rest >= 3  # 3,000 ids gathered 500 at a time
    for a, b in [(sliced.report, one_go.report)]:
        assert a.cancelled == b.cancelled == [i for k, i in enumerate(ids) if k % 10 < 8]
        assert a.unknown == b.unknown == ids[9::10]
        assert list(a.failed) == list(b.failed) == ids[8::10]


def test_folding_a_slice_at_a_time_writes_the_report_once_at_the_end() -> None:
    ids = [str(i) for i in range(1, 2_501)]
    states = {i: (OrderState.CANCELLED, OrderState.FILLED, OrderState.OPEN,
                  OrderState.NOT_FOUND, OrderState.CANCELLING)[int(i) % 5] for i in ids}

    def fresh() -> CancelReport:
        report = CancelReport()
        report.cancelled.extend(ids[:2_000])
        report.unknown.extend(ids[2_000:])
        report.unknown_reasons.update((i, "lost") for i in ids[2_000:])
        return report

    whole = fresh()
    fold_states(whole, states, {}, {}, {}, {})
    sliced = fresh()
    steps = fold_steps(sliced, states, {}, {}, {}, {}, step=400)
    seen = []
    for done in steps:
        seen.append(done)
        if done < len(ids):
            assert sliced.cancelled == ids[:2_000] and not sliced.failed  # not yet written
    assert seen[:-1] == list(range(400, 2_500, 400)) and seen[-1] == 2_500
    assert sliced.cancelled == whole.cancelled and sliced.unknown == whole.unknown
    assert sliced.failed == whole.failed and sliced.states == whole.states
    assert sliced.unknown_reasons == whole.unknown_reasons
    assert whole.failed and whole.cancelled and whole.unknown  # every rule had ids
