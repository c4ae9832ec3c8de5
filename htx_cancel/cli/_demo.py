"""``htx-cancel demo``: the fake exchange with HTX's limits, thousands of orders, all cancelled.

Some regular orders fill while their cancel is processed (the exchange accepts the cancel all
the same); verification, on by default, finds them, and a check compares every verified state
with the fake exchange's own books.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field

from rich.console import Console

from .._catalog import READ_POOL, TRADE_POOL, Endpoint, Kind, Margin
from .._credentials import Credentials
from .._ids import validate_ids
from .._limits import DEFAULT_LIMITS
from .._order_state import OrderState, state_for_status
from ..testing import FakeExchange, FaultKind
from ._args import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from ._common import Streams, make_client, print_json, run_interruptible
from ._progress import make_tracker
from ._run import Job, Outcome, make_job, pending, row_key
from ._summary import Row, outcome_json, print_summary, rows_of, total_row

__all__ = ["demo"]

ACCESS, SECRET = "demo-access", "demo-secret"
NOT_FOUND = 1061
STRATEGY_KINDS: tuple[Kind, ...] = ("trigger", "tpsl", "track")
ListKey = tuple[Kind, Margin, bool]  # kind, margin, by client order id
# demo --faults: what a flaky network and exchange do; each is retried, none may lose an id.
# (hang_after would only wait for the client's timeout; maintenance is not retried by design.)
RANDOM_FAULTS = (
    FaultKind.DROP_AFTER,  # cancelled, then the connection closes with no answer
    FaultKind.TRUNCATE_AFTER,  # cancelled, then half a body
    FaultKind.GARBLED_AFTER,  # cancelled, then a body that is not JSON
    FaultKind.GATEWAY_504_AFTER,  # cancelled, then a 504 page
    FaultKind.ERROR_500_BEFORE,  # a 500, nothing cancelled
    FaultKind.HTML_BEFORE,  # a 502 page, nothing cancelled
    FaultKind.BUSY,  # 1004, nothing cancelled
)


@dataclass(slots=True)
class Plan:
    """What the demo seeded and what it asks to cancel."""

    lists: dict[ListKey, list[str]] = field(default_factory=dict)
    verify: bool = True
    seeded: dict[str, str] = field(default_factory=dict)  # id asked -> order id
    unknown: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)

    @property
    def asked(self) -> int:
        """Ids in the lists handed over, duplicates included."""
        return sum(len(ids) for ids in self.lists.values())


def _split(count: int, cross_share: float) -> tuple[tuple[Margin, int], ...]:
    """How many of ``count`` are isolated and how many cross."""
    cross = round(count * cross_share)
    return ("isolated", count - cross), ("cross", cross)


def _seed_regular(ex: FakeExchange, args: argparse.Namespace, plan: Plan) -> None:
    """Regular orders, some to cancel by client order id."""
    for margin, n in _split(args.orders, args.cross_share):
        ids = ex.seed(args.contract, "order", margin, n, with_client_ids=True)
        by_client = round(n * args.client_share)
        for oid in ids[:by_client]:
            cid = ex.client_id_of(oid)
            assert cid is not None
            plan.seeded[cid] = oid
            plan.lists.setdefault(("order", margin, True), []).append(cid)
        plan.seeded.update((oid, oid) for oid in ids[by_client:])
        plan.lists.setdefault(("order", margin, False), []).extend(ids[by_client:])


def _seed_strategy(ex: FakeExchange, args: argparse.Namespace, plan: Plan) -> None:
    """Trigger, tp/sl and track orders."""
    for kind in STRATEGY_KINDS:
        for margin, n in _split(getattr(args, kind), args.cross_share):
            ids = ex.seed(args.contract, kind, margin, n)
            plan.seeded.update((oid, oid) for oid in ids)
            plan.lists.setdefault((kind, margin, False), []).extend(ids)


def _add_traps(ex: FakeExchange, args: argparse.Namespace, plan: Plan,
               rng: random.Random) -> None:
    """Unknown ids and duplicates, spread over the lists."""
    by_order_id = [key for key, ids in plan.lists.items() if ids and not key[2]]
    for i in range(args.unknown if by_order_id else 0):
        fake = str(rng.randrange(10**18, 2**63))
        if ex.order_state(fake) is None:
            plan.unknown.append(fake)
            plan.lists[by_order_id[i % len(by_order_id)]].append(fake)
    non_empty = [key for key, ids in plan.lists.items() if ids]
    for i in range(args.duplicates if non_empty else 0):
        ids = plan.lists[non_empty[i % len(non_empty)]]
        again = rng.choice([id_ for id_ in ids if id_ in plan.seeded])
        plan.duplicates.append(again)
        ids.insert(rng.randrange(len(ids) + 1), again)


def make_plan(ex: FakeExchange, args: argparse.Namespace) -> Plan:
    """Seed the exchange and build the jobs (duplicates dropped by the library's validation)."""
    rng = random.Random(args.seed)
    plan = Plan(verify=not args.no_verify)
    _seed_regular(ex, args, plan)
    _seed_strategy(ex, args, plan)
    _add_traps(ex, args, plan, rng)
    for (kind, margin, client_ids), ids in plan.lists.items():
        if ids:
            field_ = "client_order_id" if client_ids else "order_id"
            mode = margin if args.api == "v1" else None  # v5 cancels take no margin mode
            plan.jobs.append(make_job(kind, args.contract, mode, validate_ids(ids, field_),
                                      client_ids=client_ids, verify=plan.verify, api=args.api))
    return plan


def _fake_name(endpoint: Endpoint) -> str:
    """The fake exchange's name for an endpoint: v1's name, or the v5 path."""
    return endpoint.path if endpoint.api == "v5" else endpoint.name


def _fake_pool(endpoint: Endpoint) -> str:
    """The fake exchange's name for a strategy endpoint's own pool (v5's algo pool: algo)."""
    return "algo" if endpoint.api == "v5" else endpoint.name


def _row_of(fake_name: str) -> str:
    """The library's endpoint name for the fake exchange's (``/v5/...`` -> ``v5/...``)."""
    return fake_name.removeprefix("/")


def _inject(ex: FakeExchange, args: argparse.Namespace, plan: Plan) -> None:
    """Random faults in a share of the requests, and one 1032 on a strategy endpoint.

    The 1032 goes to a strategy endpoint when there is one: its pool is 1 s long, so the pause
    it causes is short; on the trade pool it would hold every endpoint back up to 3 s.
    """
    if not args.faults:
        return
    ex.faults.randomize(args.seed, args.faults, RANDOM_FAULTS)
    strategy = [_fake_name(job.endpoint) for job in plan.jobs if job.endpoint.strategy]
    ex.faults.script(strategy[0] if strategy else None, [FaultKind.RATE_LIMIT])


def _faults_seen(ex: FakeExchange) -> Counter[str]:
    """Injected faults by kind."""
    return Counter(str(r.fault) for r in ex.requests if r.fault is not None)


def _rejections(ex: FakeExchange) -> Counter[str]:
    """1032 answers per summary row: the exchange limiter's refusals and the injected one."""
    counts: Counter[str] = Counter()
    for record in ex.requests:
        if record.err_code != 1032 and record.fault is not FaultKind.RATE_LIMIT:
            continue
        field_ = "client_order_id" if "client_order_id" in record.body else "order_id"
        counts[row_key(_row_of(record.endpoint or ""), field_)] += 1
    return counts


def _checks(ex: FakeExchange, plan: Plan, outcome: Outcome) -> list[tuple[bool, str]]:
    """What the demo promises, each with whether it held."""
    done = Counter(outcome.cancelled)
    failed, unknown = outcome.failed, outcome.unknown
    # Filled while its cancel was processed: the exchange accepted the cancel, so only
    # verification can tell; such an order must be reported failed, never cancelled.
    filled = [asked for asked, oid in plan.seeded.items() if ex.order_state(oid) == "filled"]
    caught = sum(asked in failed and done[asked] == 0 for asked in filled)
    gone = sum(ex.order_state(oid) == "cancelled" and done[asked] == 1
               for asked, oid in plan.seeded.items())
    unknown_ok = sum(failed[u].code == NOT_FOUND for u in plan.unknown if u in failed)
    others = len(failed) - unknown_ok - caught
    reported = Counter([*outcome.cancelled, *failed, *unknown])
    once = all(n == 1 for n in reported.values()) and all(
        reported[d] == 1 for d in plan.duplicates)
    text = f"every seeded order cancelled ({gone}/{len(plan.seeded) - len(filled)})"
    if filled:
        text += f"; filled during their cancel: {caught}/{len(filled)} reported failed"
    checks = [
        (gone + caught == len(plan.seeded), text),
        (unknown_ok == len(plan.unknown) and others == 0,
         f"unknown ids failed with {NOT_FOUND} ({unknown_ok}/{len(plan.unknown)}), "
         f"no other failure ({others})"),
        (once, f"duplicates sent and reported once ({len(plan.duplicates)} asked twice)"),
        (not unknown, f"no id left unknown ({len(unknown)})"),
        _rate_check(ex, plan),
    ]
    if plan.verify:
        checks.append(_state_check(ex, plan, outcome))
    return checks


def _exchange_state(ex: FakeExchange, kind: str, oid: str) -> OrderState:
    """What verification should find: order info's status, or whether a listing holds it."""
    if kind in STRATEGY_KINDS:
        return OrderState.OPEN if ex.order_state(oid) == "open" else OrderState.GONE
    status = ex.status_of(oid)
    state = None if status is None else state_for_status(status)
    return OrderState.NOT_FOUND if state is None else state


def _state_check(ex: FakeExchange, plan: Plan, outcome: Outcome) -> tuple[bool, str]:
    """Every id asked has a verified state, and it is the exchange's (``status_of``)."""
    states = outcome.states
    asked = {id_: kind for (kind, _, _), ids in plan.lists.items() for id_ in ids}
    matched = sum(states.get(id_) == _exchange_state(ex, kind, plan.seeded.get(id_, id_))
                  for id_, kind in asked.items())
    counts = Counter(state.value for state in states.values())
    shown = ", ".join(f"{n} {state}" for state, n in counts.most_common())
    return (matched == len(asked) == len(states),
            f"every state matches the exchange ({matched}/{len(asked)} ids: {shown or 'none'})")


def _fault_check(ex: FakeExchange, outcome: Outcome) -> tuple[bool, str]:
    """Every id of a request that met a fault ended with an outcome, and none is unknown."""
    hit = [r for r in ex.requests if r.fault is not None]
    ids = {id_ for b in outcome.batches if b.errors for id_ in b.ids}  # the batches retried
    settled, unknown = outcome.settled(), outcome.unknown
    lost = len(ids - settled) + sum(id_ in unknown for id_ in ids)
    retried = sum(b.attempts > 1 for b in outcome.batches)
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(_faults_seen(ex).items()))
    return (bool(hit) and lost == 0,
            f"retries lost nothing: {len(hit)} requests met a fault ({kinds or 'none'}); "
            f"{retried} batches retried; {len(ids)} ids in them, {lost} without a definite "
            f"outcome")


def _rate_check(ex: FakeExchange, plan: Plan) -> tuple[bool, str]:
    """No 1032, and no window at the exchange held more than its limit."""
    strategy = {(_fake_pool(job.endpoint), DEFAULT_LIMITS.strategy) for job in plan.jobs
                if job.endpoint.strategy}
    pools = [(TRADE_POOL, DEFAULT_LIMITS.trade), (READ_POOL, DEFAULT_LIMITS.read),
             *sorted(strategy)]
    busiest = [(ex.max_in_window(pool), n) for pool, (n, _) in pools]
    within = all(seen <= n for seen, n in busiest)
    strategy_max = max((seen for seen, _ in busiest[2:]), default=0)
    reads = (f", read {busiest[1][0]}/{DEFAULT_LIMITS.read[0]} per 3 s" if plan.verify
             else "")
    injected = _faults_seen(ex)[str(FaultKind.RATE_LIMIT)]
    answered = (f"{ex.rejected_1032 + injected} answered 1032 ({injected} injected, "
                f"{ex.rejected_1032} over the limit)" if injected
                else f"{ex.rejected_1032} answered 1032")
    return (ex.rejected_1032 == 0 and within,
            f"never over the rate limit: {answered}; busiest windows: "
            f"trade {busiest[0][0]}/{DEFAULT_LIMITS.trade[0]} per 3 s{reads}, strategy "
            f"endpoints {strategy_max}/{DEFAULT_LIMITS.strategy[0]} per 1 s")


def _header(ex: FakeExchange, args: argparse.Namespace, plan: Plan) -> str:
    """What was seeded and what will be asked."""
    by_kind: Counter[str] = Counter({kind: 0 for kind in ("order", *STRATEGY_KINDS)})
    cross = 0
    for oid in plan.seeded.values():
        order = ex.order(oid)
        by_kind[order.kind] += 1
        cross += order.margin == "cross"
    kinds = ", ".join(f"{kind} {n}" for kind, n in by_kind.items())
    clients = sum(len(ids) for (_, _, client_ids), ids in plan.lists.items() if client_ids)
    faults = (f"; faults in {args.faults:.0%} of requests (drops, 5xx, garbled answers, 1004) "
              "and one 1032" if args.faults else "")
    fills = (f"; {args.fills:.0%} of orders (kind order) fill while their cancel is processed"
             if args.fills else "")
    verify = ("then verified: order info and strategy listings on the read pool" if plan.verify
              else "not verified (--no-verify)")
    return (f"fake HTX exchange at {ex.base_url} with HTX's limits (72 requests per 3 s per "
            f"account, 5 per 1 s per strategy endpoint){faults}{fills}\n"
            f"seeded {len(plan.seeded)} open orders on {args.contract} (by kind: {kinds}); "
            f"{cross} cross margin; {clients} to cancel by client order id\n"
            f"cancelling {plan.asked} ids ({len(plan.unknown)} unknown, "
            f"{len(plan.duplicates)} duplicates) with one CancelClient, default limits; "
            f"{verify}\n")


def _print_result(console: Console, rows: list[Row], elapsed: float,
                  checks: list[tuple[bool, str]], interrupted: bool) -> None:
    """The table, the timing against the bound, and the checks."""
    print_summary(console, rows, "htx-cancel demo: per endpoint")
    total = total_row(rows)
    console.print(f"elapsed {elapsed:.2f} s for {total.requests} requests; rate-limit bound "
                  f"{total.bound:.0f} s ({total.pools[TRADE_POOL]} requests in the shared "
                  f"72 per 3 s trade pool)")
    console.print("bound: least time the limits allow for a row alone; all rows share the "
                  "trade pool, so 'all' has the run's bound")
    if interrupted:
        console.print("[bold red]interrupted[/]: the checks below cover what was done")
    for ok, text in checks:
        console.print(f"{'[green]✓[/]' if ok else '[red]✗[/]'} {text}")


def _timing_json(rows: list[Row], elapsed: float) -> dict[str, object]:
    """How long the run took against the rate-limit bound, in all and per endpoint."""
    total = total_row(rows)
    return {
        "elapsed_s": round(elapsed, 3),
        "bound_s": total.bound,
        "requests": total.requests,
        "answered_1032": total.rejected or 0,
        "endpoints": [{"endpoint": row.key, "ids": row.ids, "requests": row.requests,
                       "elapsed_s": round(row.elapsed, 3), "bound_s": row.bound,
                       "answered_1032": row.rejected or 0} for row in rows],
    }


async def demo(args: argparse.Namespace, streams: Streams) -> int:
    """Seed the fake exchange, cancel everything at full speed, check and summarise."""
    # On v5 the algo cancel gets a 5/s pool of its own, as the client assumes (the safe side):
    # the fake exchange then enforces and counts it too.
    algo = DEFAULT_LIMITS.strategy if args.api == "v5" else None
    async with FakeExchange({ACCESS: SECRET}, seed=args.seed, latency=args.latency,
                            fill_during_cancel=args.fills, algo_limit=algo) as ex:
        plan = make_plan(ex, args)
        _inject(ex, args, plan)
        (streams.err_console() if args.json else streams.out_console()).print(
            _header(ex, args, plan).rstrip("\n"), highlight=False, markup=False)
        outcome = Outcome([job.report for job in plan.jobs])
        tracker = make_tracker(streams.err_console(), not args.no_progress)
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with make_client(Credentials(ACCESS, SECRET), ex.base_url, api=args.api) as client:
            await run_interruptible(client, plan.jobs, outcome, tracker)
        elapsed = loop.time() - started
        rows = rows_of(outcome)
        rejected = _rejections(ex)
        for row in rows:
            row.rejected = rejected[row.key]
        checks = _checks(ex, plan, outcome)
        if args.faults:
            checks.append(_fault_check(ex, outcome))
        faults = _faults_seen(ex)
    passed = all(ok for ok, _ in checks) and not outcome.interrupted
    if args.json:
        document = outcome_json(outcome, pending(plan.jobs))
        # The demo asks for ids that must fail (1061), so "ok" is its checks, not the outcome.
        document["ok"] = passed
        document["checks"] = [{"ok": ok, "check": text} for ok, text in checks]
        document["faults"] = dict(faults)
        document.update(_timing_json(rows, elapsed))
        print_json(streams.out, document)
    else:
        _print_result(streams.out_console(), rows, elapsed, checks, outcome.interrupted)
    if outcome.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if passed else EXIT_FAILED
