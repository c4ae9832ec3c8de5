"""The pure part of verification: planning queries, reading answers, folding into the report."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from htx_cancel import BatchRecord, CancelReport, Failure
from htx_cancel._order_state import OrderState
from htx_cancel._protocol import (
    Target,
    fold_states,
    info_queries,
    listed_states,
    listing_path,
    listing_query,
    parse_info,
    parse_listing,
    targets_for_ids,
    targets_from_report,
)
from htx_cancel._protocol._fold import NOT_CANCELLED, STILL_OPEN

BIG = "9223372036854775807"  # above 2^53: a float would change it


def target(ids: list[str], kind: str = "order", margin: str = "isolated",
           field: str = "order_id") -> Target:
    return Target(kind, margin, "BTC-USDT", field, tuple(ids))  # type: ignore[arg-type]


# -- planning ------------------------------------------------------------------------------------


def test_order_info_takes_50_ids_per_request_in_the_read_pool() -> None:
    ids = [str(10**17 + i) for i in range(120)]
    queries = info_queries(target(ids))
    assert [len(q.ids) for q in queries] == [50, 50, 20]
    assert {q.path for q in queries} == {"/linear-swap-api/v1/swap_order_info"}
    assert queries[0].body == {"contract_code": "BTC-USDT", "order_id": ",".join(ids[:50])}
    assert [i for q in queries for i in q.ids] == ids


def test_client_order_ids_and_cross_margin_use_their_own_field_and_path() -> None:
    (query,) = info_queries(target(["5", "6"], margin="cross", field="client_order_id"))
    assert query.path == "/linear-swap-api/v1/swap_cross_order_info"
    assert query.body == {"contract_code": "BTC-USDT", "client_order_id": "5,6"}
    assert "order_id" not in query.body


@pytest.mark.parametrize(("kind", "margin", "path"), [
    ("trigger", "isolated", "/linear-swap-api/v1/swap_trigger_openorders"),
    ("tpsl", "cross", "/linear-swap-api/v1/swap_cross_tpsl_openorders"),
    ("track", "isolated", "/linear-swap-api/v1/swap_track_openorders"),
    ("track", "cross", "/linear-swap-api/v1/swap_cross_track_openorders"),
])
def test_strategy_orders_are_read_from_their_listing_50_per_page(
        kind: str, margin: str, path: str) -> None:
    query = listing_query(target(["1"], kind, margin), 3)
    assert query.path == path
    assert query.body == {"contract_code": "BTC-USDT", "page_index": 3, "page_size": 50}


def test_listing_and_target_reject_what_htx_has_not() -> None:
    with pytest.raises(ValueError, match="order info"):
        listing_path("order", "isolated")
    with pytest.raises(ValueError, match="client_order_id"):
        target(["1"], "trigger", field="client_order_id")
    with pytest.raises(ValueError, match="field"):
        target(["1"], field="id")


def test_targets_from_a_report_follow_its_batches() -> None:
    report = CancelReport(cancelled=["1", "2", "7"], failed={"3": Failure(1061, "x")})
    report.batches += [BatchRecord("swap_cancel", ("1", "2", "3"), "order_id"),
                       BatchRecord("swap_cross_cancel", ("7",), "client_order_id"),
                       BatchRecord("swap_trigger_cancel", (), "order_id")]
    assert targets_from_report(report, "ETH-USDT") == [
        Target("order", "isolated", "ETH-USDT", "order_id", ("1", "2", "3")),
        Target("order", "cross", "ETH-USDT", "client_order_id", ("7",)),
    ]


def test_a_cancel_all_report_verifies_the_ids_it_named() -> None:
    report = CancelReport(cancelled=["8", "9"])
    report.batches.append(BatchRecord("swap_cross_track_cancelall", ()))
    assert targets_from_report(report, "BTC-USDT") == [
        Target("track", "cross", "BTC-USDT", "order_id", ("8", "9"))]
    report.batches.append(BatchRecord("swap_cancelall", ()))
    with pytest.raises(ValueError, match="several order kinds"):
        targets_from_report(report, "BTC-USDT")


# -- parsing -------------------------------------------------------------------------------------


def test_order_info_ids_come_from_order_id_str_never_a_float() -> None:
    body = (b'{"status":"ok","data":[{"order_id":9223372036854775807,"order_id_str":"'
            + BIG.encode() + b'","status":6,"client_order_id":null,"trade_volume":1}],'
            b'"ts":1}')
    finding = parse_info([BIG, "12"], "order_id", body)
    assert finding.states == {BIG: OrderState.FILLED, "12": OrderState.NOT_FOUND}
    assert not finding.unread


def test_order_info_reads_already_decoded_json_and_ints_exactly() -> None:
    answer = {"status": "ok", "data": [{"order_id": int(BIG), "status": "7"},
                                       {"order_id": 5, "status": 3, "extra": [1]}]}
    assert parse_info([BIG, "5"], "order_id", answer).states == {
        BIG: OrderState.CANCELLED, "5": OrderState.OPEN}


def test_order_info_refuses_an_id_that_went_through_a_float() -> None:
    with pytest.raises(ValueError, match="shape"):
        parse_info(["1"], "order_id", b'{"status":"ok","data":[{"order_id":1.2e18,"status":7}]}')
    with pytest.raises(ValueError, match="shape"):
        parse_info(["1"], "order_id", b"not json")
    with pytest.raises(ValueError, match="without data"):
        parse_info(["1"], "order_id", {"status": "ok"})


def test_order_info_by_client_order_id_matches_the_client_id() -> None:
    answer = {"status": "ok", "data": [{"order_id": 77, "order_id_str": "77",
                                        "client_order_id": int(BIG), "status": 11}]}
    finding = parse_info([BIG], "client_order_id", answer)
    assert finding.states == {BIG: OrderState.CANCELLING}


def test_an_unknown_status_leaves_the_id_unsettled_with_the_status() -> None:
    answer = {"status": "ok", "data": [{"order_id_str": "5", "status": 42},
                                       {"order_id_str": "999", "status": 7}]}
    finding = parse_info(["5"], "order_id", answer)
    assert finding.states == {}
    assert "42" in finding.unread["5"]


def test_listing_pages_and_gone_orders() -> None:
    page = parse_listing({"status": "ok", "data": {
        "orders": [{"order_id": 1, "order_id_str": BIG}, {"order_id": 3}],
        "total_page": 2, "current_page": 1, "total_size": 60}})
    assert (page.ids, page.total_page, page.total_size) == (frozenset({BIG, "3"}), 2, 60)
    assert listed_states([BIG, "4"], page.ids) == {BIG: OrderState.OPEN, "4": OrderState.GONE}
    strings = parse_listing({"status": "ok", "data": {"orders": [], "total_page": "3",
                                                      "total_size": "120"}})
    assert (strings.total_page, strings.total_size) == (3, 120)
    with pytest.raises(ValueError, match="not a number"):
        parse_listing({"status": "ok", "data": {"orders": [], "total_page": "many"}})
    empty = parse_listing(b'{"status":"ok","data":{"orders":[],"total_page":0,"total_size":0}}')
    assert (empty.ids, empty.total_page) == (frozenset(), 1)


# -- folding -------------------------------------------------------------------------------------


def fold_one(bucket: str, state: OrderState | None, **kw: object) -> CancelReport:
    report = CancelReport()
    if bucket == "cancelled":
        report.cancelled.append("1")
    elif bucket == "unknown":
        report.unknown.append("1")
        report.unknown_reasons["1"] = "timeout"
    else:
        report.failed["1"] = Failure(1061, "gone")
    states = {} if state is None else {"1": state}
    fold_states(report, states, kw.get("unread", {}), kw.get("recancels", {}),  # type: ignore[arg-type]
         kw.get("failures", {}), kw.get("lost", {}))  # type: ignore[arg-type]
    return report


def where(report: CancelReport) -> str:
    assert report.total == 1
    return ("cancelled" if report.cancelled else "unknown" if report.unknown else "failed")


@pytest.mark.parametrize(("bucket", "state", "to"), [
    ("cancelled", OrderState.CANCELLED, "cancelled"),
    ("cancelled", OrderState.PARTIALLY_FILLED_CANCELLED, "cancelled"),
    ("cancelled", OrderState.GONE, "cancelled"),
    ("cancelled", OrderState.NOT_FOUND, "cancelled"),
    ("cancelled", OrderState.FILLED, "failed"),
    ("cancelled", OrderState.FAILED, "failed"),
    ("cancelled", OrderState.OPEN, "failed"),
    ("cancelled", OrderState.CANCELLING, "unknown"),
    ("unknown", OrderState.CANCELLED, "cancelled"),
    ("unknown", OrderState.GONE, "cancelled"),
    ("unknown", OrderState.FILLED, "failed"),
    ("unknown", OrderState.NOT_FOUND, "failed"),
    ("unknown", OrderState.PARTIALLY_FILLED, "failed"),
    ("unknown", OrderState.CANCELLING, "unknown"),
    ("unknown", None, "unknown"),
    ("cancelled", None, "cancelled"),
    *(("failed", s, "failed") for s in OrderState),
])
def test_fold_moves_each_id_by_what_was_learned(bucket: str, state: OrderState | None,
                                                to: str) -> None:
    assert where(fold_one(bucket, state)) == to


def test_filled_and_not_found_fail_with_1061_and_say_why() -> None:
    filled = fold_one("cancelled", OrderState.FILLED).failed["1"]
    assert filled.code == NOT_CANCELLED and "filled" in filled.message
    missing = fold_one("unknown", OrderState.NOT_FOUND).failed["1"]
    assert missing.code == NOT_CANCELLED and "2 h" in missing.message
    assert fold_one("failed", OrderState.FILLED).failed["1"] == Failure(1061, "gone")


def test_still_open_reports_the_recancels_or_their_failure() -> None:
    still = fold_one("cancelled", OrderState.OPEN, recancels={"1": 2}).failed["1"]
    assert still == Failure(STILL_OPEN, "still open after 2 more cancels")
    refused = Failure(1056, "settlement")
    assert fold_one("unknown", OrderState.OPEN, recancels={"1": 1},
                    failures={"1": refused}).failed["1"] == refused


def test_unlearned_after_a_recancel_follows_the_recancel() -> None:
    assert where(fold_one("unknown", None, recancels={"1": 1})) == "cancelled"
    lost = fold_one("cancelled", None, recancels={"1": 1}, lost={"1": "timeout"})
    assert lost.unknown_reasons["1"] == "re-cancelled, timeout"
    refused = fold_one("cancelled", None, recancels={"1": 1}, failures={"1": Failure(1, "x")})
    assert refused.failed["1"] == Failure(1, "x")


def test_an_unknown_id_keeps_its_reason_and_learns_why_verification_failed() -> None:
    report = fold_one("unknown", None, unread={"1": "order info failed: 1004"})
    assert report.unknown_reasons == {"1": "timeout; order info failed: 1004"}
    assert fold_one("unknown", OrderState.CANCELLED).unknown_reasons == {}


@given(st.lists(st.tuples(st.sampled_from(["cancelled", "failed", "unknown"]),
                          st.none() | st.sampled_from(list(OrderState)),
                          st.integers(0, 2), st.booleans()),
                min_size=0, max_size=30))
def test_fold_keeps_every_id_in_exactly_one_list(
        rows: list[tuple[str, OrderState | None, int, bool]]) -> None:
    report = CancelReport()
    states: dict[str, OrderState] = {}
    recancels: dict[str, int] = {}
    failures: dict[str, Failure] = {}
    for n, (bucket, state, again, refused) in enumerate(rows):
        id_ = str(n + 1)
        if bucket == "cancelled":
            report.cancelled.append(id_)
        elif bucket == "unknown":
            report.unknown.append(id_)
            report.unknown_reasons[id_] = "lost"
        else:
            report.failed[id_] = Failure(1061, "x")
        if state is not None:
            states[id_] = state
        if again:
            recancels[id_] = again
            if refused:
                failures[id_] = Failure(1056, "y")
    fold_states(report, states, {}, recancels, failures, {})
    ids = [*report.cancelled, *report.failed, *report.unknown]
    assert sorted(ids, key=int) == [str(n + 1) for n in range(len(rows))]
    assert set(report.unknown_reasons) == set(report.unknown)
    for id_ in report.cancelled:
        assert id_ not in states or not states[id_].live


def test_plain_ids_start_unknown_and_are_validated() -> None:
    report, targets = targets_for_ids("BTC-USDT", [5, "6"], [BIG], margin="cross")
    assert report.unknown == ["5", "6", BIG] and report.unknown_reasons["5"] == "not verified"
    assert targets == [Target("order", "cross", "BTC-USDT", "order_id", ("5", "6")),
                       Target("order", "cross", "BTC-USDT", "client_order_id", (BIG,))]
    _, (tgt,) = targets_for_ids("BTC-USDT", ["7"], [], kind="tpsl")
    assert tgt.listed
    for bad in [dict(order_ids=["1,2"]), dict(client_order_ids=["1"], kind="track"),
                dict(kind="spot"), dict(margin="portfolio"), dict(contract_code=""),
                dict(order_ids=["3"], client_order_ids=["3"])]:
        args = {"contract_code": "BTC-USDT", "order_ids": ["1"], "client_order_ids": [], **bad}
        with pytest.raises(ValueError):
            targets_for_ids(args.pop("contract_code"), args.pop("order_ids"),  # type: ignore[arg-type]
                            args.pop("client_order_ids"), **args)  # type: ignore[arg-type]
