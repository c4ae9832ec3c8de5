"""``python -m benchmarks [--quick] [--api v5|v1|both] [--only NAME...] [--json PATH]
[--markdown PATH]``."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ._common import Section
from ._config import FULL, QUICK, Sizes
from ._cpu import run_cpu
from ._latency import run_latency
from ._limits import run_limits
from ._loop import run_loop
from ._memory import run_memory
from ._output import machine_info, markdown, print_sections, write_json
from ._outside import run_outside, run_priority
from ._server import ExchangeProcess
from ._socket import run_socket
from ._streams import run_streams
from ._verification import run_verification
from ._warm import run_warm
from ._wire import APIS, ApiName

__all__ = ["NAMES", "main", "run"]

NAMES = ("cpu", "limits", "memory", "latency", "outside", "priority", "verify", "stream",
         "socket", "loop", "warm")
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark htx_cancel against the fake exchange (run in its own process).")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--api", choices=("v5", "v1", "both"), default="both",
                        help="the API(s) to measure (default both, v5 first); verify is v1 "
                             "only, stream and socket v5 only")
    parser.add_argument("--only", nargs="+", choices=NAMES, metavar="NAME",
                        help=f"run only these scenarios ({', '.join(NAMES)})")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write JSON")
    parser.add_argument("--markdown", type=Path, default=None,
                        help="also write the tables as markdown here")
    return parser


async def _run_all(ex: ExchangeProcess, sizes: Sizes, names: Sequence[str],
                   apis: Sequence[ApiName]) -> list[Section]:
    sections: list[Section] = []
    for name in names:
        started = time.perf_counter()
        if name == "cpu":
            section = await run_cpu(ex, sizes, apis)
        elif name == "limits":
            section = await run_limits(ex, sizes, apis)
        elif name == "memory":
            section = run_memory(ex, sizes, apis)
        elif name == "outside":
            section = await run_outside(ex, sizes, apis)
        elif name == "priority":
            section = await run_priority(ex, sizes, apis)
        elif name == "verify":
            section = await run_verification(ex, sizes, apis)
        elif name == "stream":
            section = await run_streams(ex, sizes)
        elif name == "socket":
            section = await run_socket(ex, sizes)
        elif name == "loop":
            section = await run_loop(ex, sizes, apis)
        elif name == "warm":
            section = await run_warm(ex, sizes, apis)
        else:
            section = await run_latency(ex, sizes, apis)
        print(f"[{name} done in {time.perf_counter() - started:.1f} s]", file=sys.stderr)
        sections.append(section)
    return sections


def run(sizes: Sizes, names: Sequence[str], apis: Sequence[ApiName] = APIS) -> list[Section]:
    """Start the exchange process, run the scenarios on ``apis`` (each scenario v5 first),
    stop the exchange whatever happens."""
    with ExchangeProcess() as ex:
        return asyncio.run(_run_all(ex, sizes, names, apis))


def _load() -> list[float] | None:
    """The load averages (1, 5, 15 min), as ``uptime`` shows them; None where unknown."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    names = [n for n in NAMES if args.only is None or n in args.only]
    sizes = QUICK if args.quick else FULL
    apis: tuple[ApiName, ...] = APIS if args.api == "both" else (args.api,)
    command = "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv)
    started = datetime.datetime.now(datetime.UTC)
    t0 = time.perf_counter()
    load_before = _load()
    sections = run(sizes, names, apis)
    load_after = _load()
    meta = {"command": command.strip(), "started": started.isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - t0, 1), "quick": args.quick,
            "apis": list(apis), "load": {"before": load_before, "after": load_after},
            "machine": machine_info()}
    print_sections(sections)
    m = meta["machine"]
    print(f"machine: {m['cpu_count']} CPUs, Python {m['python']}, {m['platform']}; "
          f"load average (1, 5, 15 min) before {load_before}, after {load_after}; "
          f"command: {meta['command']}")
    write_json(args.json, sections, meta)
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text("\n".join(markdown(s) for s in sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
