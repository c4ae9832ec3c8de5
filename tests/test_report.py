from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from htx_cancel import CancelFailed, CancelReport, Failure
from htx_cancel._models import BatchData, ErrorItem, Item, decode_envelope
from htx_cancel._protocol import add, fail_all, merge_all, merge_batch, merge_items, unknown_all

CODES = [1061, 1062, 1071, 1056, 1088]


def test_decodes_a_batch_answer_keeping_big_ids_as_strings() -> None:
    body = (b'{"status":"ok","data":{"errors":[{"order_id":"1234567890123456789",'
            b'"err_code":1061,"err_msg":"no"}],"successes":"9223372036854775807,22"},'
            b'"ts":1603701351602,"extra":{"ignored":true}}')
    env = decode_envelope(body)
    assert env.status == "ok" and env.data is not None
    out = merge_batch(["9223372036854775807", "22", "1234567890123456789"], env.data)
    assert out.cancelled == ["9223372036854775807", "22"]
    assert out.failed == {"1234567890123456789": Failure(1061, "no")}


def test_decodes_whole_request_errors_and_maintenance() -> None:
    env = decode_envelope(b'{"status":"error","err_code":1032,"err_msg":"limit","ts":1}')
    assert (env.status, env.err_code, env.err_msg, env.data) == ("error", 1032, "limit", None)
    assert decode_envelope(b'{"status": "maintain"}').status == "maintain"
    dashed = decode_envelope(b'{"status":"error","err-code":"api-signature-not-valid",'
                             b'"err-msg":"Signature not valid"}')
    assert dashed.err_code_dash == "api-signature-not-valid"


def test_1062_listed_in_both_lists_is_cancelled() -> None:
    data = BatchData(errors=[ErrorItem(order_id="5", err_code=1062, err_msg="Cancelling")],
                     successes="5")
    assert merge_batch(["5"], data).cancelled == ["5"]


def test_1062_alone_is_a_failure() -> None:
    data = BatchData(errors=[ErrorItem(order_id="5", err_code=1062, err_msg="Cancelling")])
    assert merge_batch(["5"], data).failed == {"5": Failure(1062, "Cancelling")}


def test_1071_counts_as_cancelled_only_on_a_retry() -> None:
    data = BatchData(errors=[ErrorItem(order_id="5", err_code=1071, err_msg="Repeated")])
    assert merge_batch(["5"], data).cancelled == ["5"]  # already cancelled: gone, as asked


def test_client_order_id_errors_and_string_codes() -> None:
    data = BatchData(errors=[ErrorItem(order_id="", client_order_id=77, err_code="1061")])
    assert merge_batch(["77"], data).failed["77"].code == 1061


def test_missing_ids_are_unknown_and_strangers_ignored() -> None:
    data = BatchData(errors=[ErrorItem(order_id="999", err_code=1061)], successes="1,888")
    out = merge_batch(["1", "2"], data)
    assert out.cancelled == ["1"] and list(out.unknown) == ["2"] and not out.failed
    assert merge_batch(["1"], None).unknown == {"1": "answer had no data"}


def test_cancel_all_lists_what_the_exchange_names() -> None:
    data = BatchData(errors=[ErrorItem(order_id="3", err_code=1056), ErrorItem(order_id="1",
                     err_code=1062)], successes="1,2,2")
    out = merge_all(data)
    assert out.cancelled == ["1", "2"] and list(out.failed) == ["3"]


def test_report_accounting_and_raise_for_failures() -> None:
    report = CancelReport()
    add(report, merge_batch(["1", "2"], BatchData(successes="1,2")))
    assert report.ok and report.raise_for_failures() is report
    add(report, fail_all(["3"], Failure(1056, "settlement")))
    add(report, unknown_all(["4"], "timeout"))
    assert report.total == 4 and report.unknown_reasons == {"4": "timeout"}
    with pytest.raises(CancelFailed) as info:
        report.raise_for_failures()
    assert info.value.report is report
    assert "1 failed and 1 unknown of 4 ids" in str(info.value)


@st.composite
def batch_answers(draw: st.DrawFn) -> tuple[list[str], BatchData, bool]:
    ids = draw(st.lists(st.integers(1, 10**19).map(str), unique=True, max_size=25))
    succ, errs = [], []
    for id_ in ids:
        fate = draw(st.sampled_from(["ok", "err", "both", "missing"]))
        if fate in ("ok", "both"):
            succ.append(id_)
        if fate in ("err", "both"):
            errs.append(ErrorItem(order_id=id_, err_code=draw(st.sampled_from(CODES))))
    strangers = draw(st.lists(st.integers(10**19 + 1, 10**19 + 99).map(str), max_size=3))
    errs += [ErrorItem(order_id=s, err_code=1061) for s in strangers]
    order = draw(st.permutations(succ))
    return ids, BatchData(errors=draw(st.permutations(errs)), successes=",".join(order)), \
        draw(st.booleans())


@given(batches=st.lists(batch_answers(), max_size=6))
def test_every_id_lands_in_exactly_one_outcome(
        batches: list[tuple[list[str], BatchData, bool]]) -> None:
    report = CancelReport()
    asked: list[str] = []
    for ids, data, _ in batches:
        fresh = [i for i in ids if i not in asked]
        asked += fresh
        out = merge_batch(fresh, data)
        add(report, out)
        succ = set(filter(None, (data.successes or "").split(",")))
        for id_ in fresh:
            assert (id_ in out.cancelled) == (id_ in succ or (
                any(e.order_id == id_ and e.err_code == 1071 for e in data.errors)))
    groups = [set(report.cancelled), set(report.failed), set(report.unknown)]
    assert sum(map(len, groups)) == len(asked) == report.total
    assert set().union(*groups) == set(asked)
    assert report.cancelled == [i for i in asked if i in groups[0]]  # input order kept


def test_ok_judges_by_id_requests_by_their_ids_and_cancel_all_by_its_request() -> None:
    from htx_cancel._report import BatchRecord

    report = CancelReport()
    lost = BatchRecord("swap_cancel", ("1", "2"), "order_id", outcome="unknown")
    report.batches.append(lost)
    add(report, unknown_all(["1", "2"], "timed out"))
    assert not report.ok  # the ids are unknown
    report.unknown.clear()
    report.unknown_reasons.clear()
    report.cancelled.extend(["1", "2"])  # what verification does once it learns they are gone
    assert report.ok
    report.batches.append(BatchRecord("swap_cancelall", (), None, outcome="failed"))
    assert not report.ok  # a cancel-all that failed names no ids: its request decides


V5_CODES = [200, 200, 200, "200", 0, 1061, 1063, 1071, None]


@st.composite
def v5_items(draw: st.DrawFn) -> tuple[list[str], list[Item]]:
    """A v5 batch: distinct ids asked, items naming most of them (all 200 often), in any order,
    some ids as exact JSON integers, sometimes a stranger or a repeat."""
    ids = draw(st.lists(st.integers(10**17, 10**19 - 1).map(str), min_size=1, max_size=10,
                        unique=True))
    all_ok = draw(st.booleans())
    items = []
    for id_ in ids:
        if not all_ok and draw(st.integers(0, 5)) == 0:
            continue  # not named
        code = 200 if all_ok else draw(st.sampled_from(V5_CODES))
        named: str | int = int(id_) if not all_ok and draw(st.booleans()) else id_
        items.append(Item(order_id=named, code=code, message="m"))
    if not all_ok:
        items += [Item(order_id=s, code=200) for s in draw(st.lists(
            st.sampled_from(ids) | st.just("7"), max_size=2))]
    return ids, draw(st.permutations(items))


@given(batch=v5_items())
def test_v5_items_merge_by_id_whatever_the_order(batch: tuple[list[str], list[Item]]) -> None:
    ids, items = batch
    out = merge_items(ids, "order_id", items)
    first: dict[str, Item] = {}
    for item in items:
        first.setdefault(str(item.order_id), item)
    for id_ in ids:  # the rules, one id at a time (the merge may take a shortcut)
        item = first.get(id_)
        code = None if item is None else item.code
        if item is None:
            assert id_ in out.unknown
        elif code in (200, "200", 0, 1071, None):
            assert id_ in out.cancelled
        else:
            assert out.failed[id_] == Failure(int(code), "m")
    assert out.cancelled == [i for i in ids if i in out.cancelled]  # the batch's order
    assert len(out.cancelled) + len(out.failed) + len(out.unknown) == len(ids)
