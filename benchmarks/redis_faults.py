"""The shared limiter on Redis's bad days: four processes, one account, a fault mid-run.

    python -m benchmarks.redis_faults [--faults none restart flushall kill] [--quick] [--json P]

Each scenario starts its own Redis (``benchmarks._redis_server``), a strict fake exchange
(sliding windows, 20 ms before arrival) and four worker processes that cancel their ids through
one ``RedisLimiter`` each, with the documented fallback (a quarter of the account each). About
3 s into the run (a third of it) the fault: ``restart`` kills Redis and starts it again empty
2 s later; ``flushall`` flushes it; ``kill`` SIGKILLs one worker. Reported: the over-limit
answers (1032), the busiest window, the span from the first accepted request to the last
against the bound the limits allow for that many (``vs bound``), and for ``restart`` how long
after Redis answered again the last worker was back on it. The workers are this module too
(``python -m benchmarks.redis_faults --worker CONFIG``), as are the multi-process tests'.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ._redis_server import RedisServer

__all__ = ["FaultResult", "release", "run_fault", "start_worker", "stop_all"]

ROOT = Path(__file__).resolve().parents[1]
ACCESS, SECRET = "test-access", "test-secret"
CONTRACT = "BTC-USDT"


@dataclass(frozen=True, slots=True)
class Sizes:
    """One scenario's sizes: the account's trade pool, requests per worker, when the fault."""

    limit: int = 72
    period: float = 3.0
    requests_each: int = 60
    workers: int = 4
    fault_at: float = 3.0
    down_for: float = 2.0
    lease: float = 4.0


FULL = Sizes()
QUICK = Sizes(limit=20, period=1.0, requests_each=20, fault_at=1.5, down_for=1.0, lease=2.0)


@dataclass(slots=True)
class FaultResult:
    """What one scenario measured."""

    fault: str
    requests: int
    rejected_1032: int
    max_in_window: int
    limit: int
    span: float
    bound: float
    lost: int  # ids of surviving workers not cancelled
    back_after: float | None = None  # restart: the last worker back on Redis after it answered
    moves: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    rejected_at: list[float] = field(default_factory=list)  # seconds after the first request
    trace: list[tuple[float, int | str, bool]] = field(default_factory=list)  # at, worker, accepted
    first_wall: float = 0.0  # the wall time of the first accepted request

    @property
    def vs_bound(self) -> float:
        return self.span / self.bound if self.bound else 0.0


# -- the worker (one process of the account) ----------------------------------------------------


async def _work(config: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    """Cancel the config's ids through a RedisLimiter with a fallback; the report and moves."""
    from htx_cancel import CancelClient, Credentials, RateLimits, RetryPolicy, Timeouts
    from htx_cancel.redis_limiter import RedisLimiter

    moves: list[tuple[float, str]] = []

    class Moves(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            moves.append((time.time(), record.getMessage()))

    logger = logging.getLogger("htx_cancel.redis")
    logger.addHandler(Moves(logging.DEBUG))
    logger.setLevel(logging.DEBUG)
    n, t, lease = int(config["limit"]), float(config["period"]), float(config["lease"])
    limits = RateLimits(trade=(n, t), strategy=(5, t), read=(n, t))
    share = config.get("share")
    fallback = RateLimits(trade=(n, t), strategy=(5, t), read=(n, t), share=share) \
        if share else None
    async with RedisLimiter(config["redis"], config["account"], limits, lease=lease,
                            fallback=fallback) as limiter:
        await limiter.ping()
        async with CancelClient(Credentials(ACCESS, SECRET), api="v1", base_url=config["base_url"],
                                limiter=limiter,
                                timeouts=Timeouts(total=lease / 2, connect=lease / 4),
                                retry=RetryPolicy(deadline=60.0)) as client:
            # the start gate: say ready, then wait for the common start time (see release())
            print("ready", flush=True)
            start_at = float(await asyncio.to_thread(sys.stdin.readline))
            await asyncio.sleep(max(0.0, start_at - time.time()))
            started = time.time()
            report = await client.cancel_orders(CONTRACT, order_ids=ids)
            finished = time.time()
    return {"cancelled": report.cancelled,
            "failed": {k: [v.code, v.message] for k, v in report.failed.items()},
            "unknown": report.unknown, "started": started, "finished": finished,
            "moves": moves}


def worker_main(config_path: str) -> None:
    """The worker's entry: read the config, cancel, write the result next to it."""
    config = json.loads(Path(config_path).read_text())
    result = asyncio.run(_work(config, Path(config["ids"]).read_text().split()))
    Path(config["out"]).write_text(json.dumps(result))


def _write_config(config: dict[str, Any], tmp: Path, name: str, ids: list[str]) -> Path:
    (tmp / f"{name}.ids").write_text("\n".join(ids))
    path = tmp / f"{name}.config.json"
    path.write_text(json.dumps({**config, "ids": str(tmp / f"{name}.ids"),
                                "out": str(tmp / f"{name}.json")}))
    return path


async def start_worker(config: dict[str, Any], tmp: Path, name: str,
                       ids: list[str]) -> asyncio.subprocess.Process:
    """Start one worker process with ``config`` (base_url, redis, account, limit, period,
    lease, share or None); its result goes to ``tmp/name.json``. It sets up its limiter and
    client, says ready and waits at the start gate: see :func:`release`."""
    path = _write_config(config, tmp, name, ids)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.redis_faults", "--worker", str(path), env=env,
        cwd=str(ROOT), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)


async def release(procs: list[asyncio.subprocess.Process], lead: float = 0.3,
                  wait: float = 60.0) -> float:
    """Wait until every worker is ready (at most ``wait`` seconds: a slow machine's imports
    must not eat into the run), then give them one start time ``lead`` seconds ahead; returns
    it. A fixed start time set before the processes started was missed on a busy machine:
    the runs then began staggered and a fault meant for mid-run came after a worker's end."""
    for proc in procs:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), wait)
        if line.strip() != b"ready":
            raise RuntimeError(f"worker {proc.pid} did not get ready (exit {proc.returncode})")
    start_at = time.time() + lead
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(f"{start_at}\n".encode())
        await proc.stdin.drain()
    return start_at


async def stop_all(procs: list[asyncio.subprocess.Process]) -> None:
    """Kill and reap every worker still running (after a failure: none left behind)."""
    for proc in procs:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def finish(proc: asyncio.subprocess.Process, seconds: float) -> int:
    """The worker's exit code; killed (and TimeoutError) if it takes longer than ``seconds``."""
    try:
        return await asyncio.wait_for(proc.wait(), seconds)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise


# -- one scenario ---------------------------------------------------------------------------


async def run_fault(fault: str, sizes: Sizes = FULL, tmp: Path | None = None) -> FaultResult:
    """Four workers, one account, ``fault`` (none, restart, flushall, kill) a third in."""
    from htx_cancel.testing import FakeExchange

    tmp = tmp or Path(tempfile.mkdtemp(prefix=f"faults-{fault}-"))
    per_request = 25
    with RedisServer() as server:
        async with FakeExchange({ACCESS: SECRET}, trade_limit=(sizes.limit, sizes.period),
                                window="sliding", latency=0.02) as ex:
            ids = [ex.seed(CONTRACT, "order", "isolated", sizes.requests_each * per_request)
                   for _ in range(sizes.workers)]
            config = {"base_url": ex.base_url, "redis": server.url, "account": "uid-faults",
                      "limit": sizes.limit, "period": sizes.period,
                      "lease": sizes.lease, "share": 1 / sizes.workers}
            procs: list[asyncio.subprocess.Process] = []
            try:
                for i, part in enumerate(ids):
                    procs.append(await start_worker(config, tmp, f"w{i}", part))
                start_at = await release(procs)
                await asyncio.sleep(max(0.0, start_at + sizes.fault_at - time.time()))
                back_at = None
                if fault == "restart":
                    await asyncio.to_thread(server.kill)
                    await asyncio.sleep(sizes.down_for)
                    back_at = time.time()  # from the moment it starts: it answers a little later
                    await asyncio.to_thread(server.start)
                elif fault == "flushall":
                    await asyncio.to_thread(server.flushall)
                elif fault == "kill":
                    if procs[-1].returncode is not None:
                        raise RuntimeError("kill: the worker had finished before the fault")
                    procs[-1].send_signal(signal.SIGKILL)
                codes = [await finish(p, 120) for p in procs]
            finally:
                await stop_all(procs)
            arrivals = sorted(r.arrival for r in ex.requests if r.accepted)
            rejected_at = sorted(r.arrival - arrivals[0] for r in ex.requests
                                 if not r.accepted and r.err_code == 1032 and arrivals)
            owner = {order_id: i for i, part in enumerate(ids) for order_id in part}
            wall0 = time.time() - asyncio.get_running_loop().time() + (arrivals or [0.0])[0]
            trace = [(r.arrival - arrivals[0], owner.get(r.ids[0], -1) if r.ids else r.path,
                      bool(r.accepted)) for r in ex.requests if arrivals]
            rejected, busiest = ex.rejected_1032, ex.max_in_window("trade")
    survivors = range(sizes.workers - 1) if fault == "kill" else range(sizes.workers)
    if [codes[i] for i in survivors] != [0] * len(survivors):
        raise RuntimeError(f"{fault}: a worker failed: {codes}")
    results = {i: json.loads((tmp / f"w{i}.json").read_text()) for i in survivors}
    lost = sum(len(set(ids[i]) - set(r["cancelled"])) for i, r in results.items())
    moves = {f"w{i}": [tuple(m) for m in r["moves"]] for i, r in results.items()}
    back_after = None
    if back_at is not None:
        # the workers still at work when Redis came back (one may have finished on the fallback)
        backs = [min((t for t, m in r["moves"] if "answers again" in m and t >= back_at),
                     default=math.inf) for r in results.values() if r["finished"] > back_at + 1]
        back_after = max(backs, default=back_at) - back_at
    span = arrivals[-1] - arrivals[0] if arrivals else 0.0
    bound = (math.ceil(len(arrivals) / sizes.limit) - 1) * sizes.period
    return FaultResult(fault, len(arrivals), rejected, busiest, sizes.limit, span, bound, lost,
                       back_after, moves, rejected_at, trace, wall0)


def _row(r: FaultResult) -> str:
    back = "" if r.back_after is None else f"{r.back_after:.2f}"
    return (f"| {r.fault} | {r.requests} | {r.rejected_1032} | {r.max_in_window}/{r.limit} | "
            f"{r.span:.2f} | {r.bound:.2f} | {r.vs_bound:.3f} | {r.lost} | {back} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.redis_faults",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--faults", nargs="+", default=["none", "restart", "flushall", "kill"],
                        choices=["none", "restart", "flushall", "kill"])
    parser.add_argument("--quick", action="store_true", help="small pools, short runs")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(args.worker)
        return
    sizes = QUICK if args.quick else FULL
    print(f"four processes, {sizes.limit} per {sizes.period:g} s, fault at {sizes.fault_at} s")
    print("| fault | requests | 1032 | busiest window | span s | bound s | vs bound | lost |"
          " back on Redis after s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    results = []
    for fault in args.faults:
        result = asyncio.run(run_fault(fault, sizes))
        results.append(result)
        print(_row(result), flush=True)
    if args.json:
        args.json.write_text(json.dumps([{**asdict(r), "vs_bound": r.vs_bound}
                                         for r in results], indent=2))


if __name__ == "__main__":
    main()
