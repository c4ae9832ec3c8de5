"""The attempt machine and the judges, as plain tables: no event loop, no transport."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from htx_cancel import APIError, AuthenticationError, ConnectError, DecodeError
from htx_cancel._catalog import CATALOG
from htx_cancel._errors import RequestTimeout, TransportError
from htx_cancel._protocol import (
    RESYNC,
    SEND,
    Action,
    Attempts,
    BatchOutcome,
    Done,
    Sleep,
    Step,
    Verdict,
    classify,
    judge_cancel,
    judge_error,
    judge_request,
)
from htx_cancel._report import NOT_SENT, Failure
from htx_cancel._retry import RetryPolicy

POLICY = RetryPolicy(max_attempts=3, backoff=0.1, backoff_max=0.4, deadline=10.0)

SWAP_CANCEL = CATALOG["swap_cancel"]
SWAP_CANCELALL = CATALOG["swap_cancelall"]


def v(action: Action, code: int | str | None = None) -> Verdict:
    """A verdict of the given kind, with a failure when a code is given."""
    failure = None if code is None else Failure(code, "msg")
    return Verdict(action, f"{action.name} {code}", failure=failure,
                   value=BatchOutcome(cancelled=["1"]) if action is Action.OK else None)


def run(verdicts: list[Verdict], *, retry_lost: bool = True, policy: RetryPolicy = POLICY,
        times: list[float] | None = None, limited: bool = True) -> tuple[list[str], Done]:
    """Feed verdicts in order (sending whenever told), return the steps taken and the end."""
    machine = Attempts(policy, deadline=policy.deadline and 100.0 + policy.deadline,
                       rng=random.Random(1), retry_lost=retry_lost, limited=limited)
    steps: list[str] = []
    now = 100.0
    pending = list(verdicts)
    clock = iter(times or [])
    step: Step | Done = SEND
    while not isinstance(step, Done):
        if step is SEND:
            now = next(clock, now)
            refused = machine.may_send(now)
            if refused is not None:
                return steps, refused
            step = machine.feed(pending.pop(0), now)
        elif step is RESYNC:
            steps.append("resync")
            step = SEND
            continue
        else:
            assert isinstance(step, Sleep)
            steps.append("sleep")
            now += step.delay
            step = SEND
            continue
        steps.append("sent")
    return steps, step


@pytest.mark.parametrize(("verdicts", "steps", "outcome"), [
    # settled at once
    ([v(Action.OK)], ["sent"], "ok"),
    # transient rejection then ok: backoff between
    ([v(Action.RETRY, 1004), v(Action.OK)], ["sent", "sleep", "sent"], "ok"),
    # rate limited: no backoff (the limiter holds the pool), then ok
    ([v(Action.PAUSE, 1032), v(Action.OK)], ["sent", "sent"], "ok"),
    # a final rejection ends at once, failed
    ([v(Action.FAIL, 1056)], ["sent"], "failed"),
    # timestamp: one re-sync, which does not count as an attempt
    ([v(Action.RESYNC, 12001), v(Action.LOST), v(Action.LOST), v(Action.OK)],
     ["sent", "resync", "sent", "sleep", "sent", "sleep", "sent"], "ok"),
    # timestamp still rejected after the re-sync: stop
    ([v(Action.RESYNC, 12001), v(Action.RESYNC, 12001)], ["sent", "resync", "sent"], "failed"),
    # lost answers until attempts run out: unknown
    ([v(Action.LOST)] * 3, ["sent", "sleep", "sent", "sleep", "sent"], "unknown"),
    # a rejection after a lost answer: unknown (the lost one may have cancelled)
    ([v(Action.LOST), v(Action.FAIL, 1056)], ["sent", "sleep", "sent"], "unknown"),
    # never sent, every time: failed as not sent
    ([v(Action.NOT_SENT)] * 3, ["sent", "sleep", "sent", "sleep", "sent"], "failed"),
    # authentication: stop at once
    ([v(Action.AUTH, 1253)], ["sent"], "failed"),
])
def test_verdict_tables(verdicts: list[Verdict], steps: list[str], outcome: str) -> None:
    taken, done = run(verdicts)
    assert taken == steps and done.outcome == outcome


def test_failures_carry_the_exchange_code_or_not_sent() -> None:
    assert run([v(Action.FAIL, 1056)])[1].failure == Failure(1056, "msg")
    done = run([v(Action.NOT_SENT)] * 3)[1]
    assert done.failure is not None and done.failure.code == NOT_SENT
    assert run([v(Action.AUTH, 1253)])[1].stop
    assert run([v(Action.RESYNC, 12001)] * 2)[1].stop
    assert not run([v(Action.FAIL, 1056)])[1].stop


def test_pause_counts_as_an_attempt() -> None:
    taken, done = run([v(Action.PAUSE, 1032)] * 3)
    assert taken == ["sent"] * 3 and done.outcome == "failed"
    assert done.failure is not None and done.failure.code == 1032


def paused(wait: float | None) -> Verdict:
    """A 1032 whose headers say the pool resets in ``wait`` seconds (None: no headers)."""
    verdict = v(Action.PAUSE, 1032)
    verdict.wait = wait
    return verdict


def test_without_a_limiter_a_1032_sleeps_until_the_reset() -> None:
    machine = Attempts(POLICY, 110.0, random.Random(1), limited=False)
    assert machine.may_send(100.0) is None
    step = machine.feed(paused(1.5), 100.2)
    assert isinstance(step, Sleep) and step.delay == 1.5
    # no headers: the backoff
    assert machine.may_send(101.7) is None
    step = machine.feed(paused(None), 101.8)
    assert isinstance(step, Sleep) and 0.1 <= step.delay <= 0.2
    # a reset past the deadline is not waited for: the ids fail with the 1032
    late = Attempts(POLICY, 110.0, random.Random(1), limited=False)
    assert late.may_send(100.0) is None
    done = late.feed(paused(3.0), 108.0)
    assert isinstance(done, Done) and done.outcome == "failed"
    assert done.failure is not None and done.failure.code == 1032
    # with a limiter the pool is held there: send again at once
    taken, _ = run([paused(1.5), v(Action.OK)])
    assert taken == ["sent", "sent"]
    taken, done = run([paused(1.5), v(Action.OK)], limited=False)
    assert taken == ["sent", "sleep", "sent"] and done.outcome == "ok"


def test_not_idempotent_requests_retry_only_what_never_left() -> None:
    assert run([v(Action.LOST)], retry_lost=False)[1].outcome == "unknown"
    assert run([v(Action.RETRY, 1004)], retry_lost=False)[1].outcome == "failed"
    taken, done = run([v(Action.NOT_SENT), v(Action.PAUSE, 1032), v(Action.OK)],
                      retry_lost=False)
    assert taken == ["sent", "sleep", "sent", "sent"] and done.outcome == "ok"
    assert run([v(Action.RESYNC, 12001), v(Action.OK)], retry_lost=False)[1].outcome == "ok"


def test_no_retry_starts_after_the_deadline_whatever_it_waited_for() -> None:
    # a 1032 pause that ends after the deadline (the slot is granted at 111): given up, and
    # the ids fail with the 1032 since nothing reached the exchange unanswered
    taken, done = run([v(Action.PAUSE, 1032), v(Action.OK)], times=[100.0, 111.0])
    assert taken == ["sent"] and done.outcome == "failed"
    assert done.failure is not None and done.failure.code == 1032
    assert "deadline" in done.reason
    # the same after a re-sync
    _, done = run([v(Action.RESYNC, 12001), v(Action.OK)], times=[100.0, 110.0])
    assert done.outcome == "failed" and "deadline" in done.reason
    # a backoff that would end past the deadline is not slept
    policy = RetryPolicy(max_attempts=9, backoff=2.0, backoff_max=2.0, deadline=5.0)
    taken, done = run([v(Action.LOST)] * 9, policy=policy, times=[100.0, 104.5])
    assert taken == ["sent", "sleep", "sent"] and done.outcome == "unknown"
    # the first attempt always goes
    _, done = run([v(Action.OK)], times=[500.0])
    assert done.outcome == "ok"


def test_stopped_before_sending_fails_with_the_same_failure() -> None:
    machine = Attempts(POLICY, None, random.Random(0))
    failure = Failure(1253, "Error in signature verification.")
    done = machine.stopped(failure)
    assert done.outcome == "failed" and done.failure is failure and "not sent" in done.reason


def test_backoff_is_equal_jitter_within_its_ceiling() -> None:
    rng = random.Random(3)
    for attempt, ceiling in ((1, 0.1), (2, 0.2), (3, 0.4), (4, 0.4)):
        for _ in range(50):
            assert ceiling / 2 <= POLICY.delay(attempt, rng) <= ceiling


@pytest.mark.parametrize(("code", "action"), [
    (1032, Action.PAUSE), (1004, Action.RETRY), (12001, Action.RESYNC), (403, Action.AUTH),
    (1253, Action.AUTH), (12002, Action.AUTH), (12008, Action.AUTH), (12009, Action.FAIL),
    ("api-signature-not-valid", Action.AUTH), ("invalid-access-key", Action.AUTH),
    ("timeout", Action.LOST), ("Timeout", Action.LOST), (1056, Action.FAIL), (1067, Action.FAIL),
    ("base-symbol-error", Action.FAIL), (1431, Action.FAIL),
])
def test_one_classifier_for_every_code(code: int | str, action: Action) -> None:
    assert classify(code) is action


def body(obj: Any) -> bytes:
    return json.dumps(obj).encode()


OK_BODY = {"status": "ok", "data": {"errors": [], "successes": "1,2"}, "ts": 1}


@pytest.mark.parametrize(("status", "answer", "action", "code"), [
    (200, OK_BODY, Action.OK, None),
    (200, {**OK_BODY, "ts": "1603701351602"}, Action.OK, None),  # ts as a string
    (200, {"status": "error", "err_code": 1032, "err_msg": "limit", "ts": 1}, Action.PAUSE,
     1032),
    (200, {"status": "error", "err_code": "1004", "err_msg": "busy"}, Action.RETRY, 1004),
    (200, {"status": "error", "err-code": "api-signature-not-valid",
           "err-msg": "Signature not valid"}, Action.AUTH, "api-signature-not-valid"),
    (200, {"code": 1067, "message": "new shape"}, Action.FAIL, 1067),
    (200, {"code": 1253, "msg": "bad signature", "ts": "1"}, Action.AUTH, 1253),
    (200, {"status": "error", "code": "1056", "message": "settlement"}, Action.FAIL, 1056),
    (200, {"status": "maintain"}, Action.FAIL, 1431),
    (200, {"status": "error", "err_code": "timeout", "err_msg": "timeout"}, Action.LOST, None),
    (403, {"status": "error", "err_code": 403, "err_msg": "Incorrect Access key"}, Action.AUTH,
     403),
    (200, {"status": "error", "err_msg": "no code"}, Action.FAIL, 0),
    (429, "Too Many Requests", Action.PAUSE, 1032),
    (502, "<html>bad gateway</html>", Action.LOST, None),
    (500, OK_BODY, Action.LOST, None),
    (200, '{"status": "ok", "da', Action.LOST, None),
    (200, {"ts": 1}, Action.LOST, None),
    (404, ["not", "an", "envelope"], Action.LOST, None),
])
def test_every_envelope(status: int, answer: Any, action: Action,
                        code: int | str | None) -> None:
    raw = answer.encode() if isinstance(answer, str) else body(answer)
    verdict = judge_cancel(status, raw, SWAP_CANCEL, ["1", "2"], "order_id", retried=False)
    assert verdict.action is action
    assert (verdict.failure.code if verdict.failure else None) == code
    request_verdict = judge_request(status, raw)
    assert request_verdict.action is action
    if action is Action.OK:
        assert verdict.value.cancelled == ["1", "2"]
        assert request_verdict.value == answer
    elif action in (Action.AUTH, Action.RESYNC):
        assert isinstance(request_verdict.error, AuthenticationError)
    elif verdict.failure is not None:
        assert isinstance(request_verdict.error, APIError)
        assert request_verdict.error.code == code and request_verdict.error.status == status
    elif verdict.action is Action.LOST and code is None:
        assert isinstance(request_verdict.error, (DecodeError, APIError))


def test_the_message_is_the_exchange_own() -> None:
    for answer in ({"status": "error", "err_code": 1056, "err_msg": "A"},
                   {"status": "error", "err-code": 1056, "err-msg": "A"},
                   {"code": 1056, "msg": "A"}, {"code": 1056, "message": "A"}):
        verdict = judge_request(200, body(answer))
        assert verdict.failure == Failure(1056, "A"), answer


def test_code_200_without_status_is_a_success() -> None:
    answer = {"code": 200, "msg": "", "ts": 1, "data": {"current_time": 1, "trigger_time": 2}}
    verdict = judge_request(200, body(answer))
    assert verdict.action is Action.OK and verdict.value == answer


def test_cancel_all_with_nothing_open_is_settled_and_empty() -> None:
    verdict = judge_cancel(200, body({"status": "error", "err_code": 1051, "err_msg": "none"}),
                           SWAP_CANCELALL, (), None, retried=False)
    assert verdict.action is Action.OK and verdict.value == BatchOutcome()
    assert "1051" in verdict.reason
    retried = judge_cancel(200, body({"status": "ok", "data": {"successes": "7"}}),
                           SWAP_CANCELALL, (), None, retried=True)
    assert retried.value.cancelled == ["7"] and "earlier attempt" in retried.reason


def test_a_retried_cancel_all_that_finds_nothing_keeps_the_lost_attempt_note() -> None:
    answer = body({"status": "error", "err_code": 1051, "err_msg": "No orders to cancel."})
    verdict = judge_cancel(200, answer, SWAP_CANCELALL, (), None, retried=True)
    assert verdict.action is Action.OK and verdict.value == BatchOutcome()
    # the lost attempt may have cancelled every open order: that is why none are left
    assert "1051" in verdict.reason and "earlier attempt got no answer" in verdict.reason


@pytest.mark.parametrize(("exc", "action", "outcome"), [
    (ConnectError("refused"), Action.NOT_SENT, "not_sent"),
    (RequestTimeout("slow"), Action.LOST, "timeout"),
    (TransportError("reset"), Action.LOST, "transport_error"),
])
def test_transport_errors(exc: TransportError, action: Action, outcome: str) -> None:
    verdict = judge_error(exc)
    assert verdict.action is action and verdict.outcome == outcome and verdict.error is exc


def test_only_answers_past_the_key_check_prove_the_key() -> None:
    proves = {a for a in Action if Verdict(a).proves_key}
    assert proves == {Action.OK, Action.RETRY, Action.PAUSE, Action.FAIL}


@pytest.mark.parametrize(("code", "step"), [
    (1004, Sleep), (1032, SEND), ("timeout", Sleep), (1431, Sleep), (12001, RESYNC),
    (1061, Done), (1253, Done), ("api-signature-not-valid", Done), (6023, Done),
])
def test_what_a_repeatable_request_sends_again(code: int | str, step: Any) -> None:
    machine = Attempts(POLICY, 10.0, random.Random(0), patient=True)
    assert machine.may_send(0.0) is None
    verdict = judge_request(200, body({"code": code, "message": "m"}))
    got = machine.feed(verdict, 0.0)
    assert got is step if isinstance(step, Step) else isinstance(got, step)
    placement = Attempts(POLICY, 10.0, random.Random(0), retry_lost=False)
    placement.may_send(0.0)
    again = placement.feed(verdict, 0.0)
    assert isinstance(again, Done) or again in (SEND, RESYNC)  # only what never left
