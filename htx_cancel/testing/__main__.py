"""Run the fake HTX exchange from the command line: ``python -m htx_cancel.testing``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ._answers import ERROR_STYLES
from ._exchange import FakeExchange
from ._orders import KINDS, MARGINS
from ._v5.codes import MIGRATED
from ._v5.envelope import V5_STYLES

__all__ = ["SeedSpec", "build_parser", "main", "parse_seed_spec", "serve", "write_ids"]


@dataclass(frozen=True, slots=True)
class SeedSpec:
    """``CONTRACT:KIND:COUNT[:MARGIN]``, e.g. ``BTC-USDT:order:1000``, ``ETH-USDT:tpsl:5:cross``."""

    contract_code: str
    kind: str
    count: int
    margin: str = "isolated"


def parse_seed_spec(text: str) -> SeedSpec:
    """Parse one ``--seed-orders`` value; argparse.ArgumentTypeError when malformed."""
    parts = text.split(":")
    if len(parts) not in (3, 4) or not parts[0]:
        raise argparse.ArgumentTypeError(f"expected CONTRACT:KIND:COUNT[:MARGIN], got {text!r}")
    contract, kind, count = parts[:3]
    margin = parts[3] if len(parts) == 4 else "isolated"
    if kind not in KINDS:
        raise argparse.ArgumentTypeError(f"kind must be one of {', '.join(KINDS)}: {text!r}")
    if margin not in MARGINS:
        raise argparse.ArgumentTypeError(f"margin must be isolated or cross: {text!r}")
    if not count.isdigit():
        raise argparse.ArgumentTypeError(f"count must be a non-negative integer: {text!r}")
    return SeedSpec(contract, kind, int(count), margin)


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m htx_cancel.testing``."""
    parser = argparse.ArgumentParser(
        prog="python -m htx_cancel.testing",
        description="Serve a fake HTX USDT-margined swap API (v5 and v1) until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (0 picks a free one)")
    parser.add_argument("--window", choices=("sliding", "fixed"), default="sliding")
    parser.add_argument("--no-rate-limits", action="store_true", help="never answer 1032")
    parser.add_argument(
        "--seed-orders",
        type=parse_seed_spec,
        nargs="+",
        action="extend",
        default=[],
        metavar="CONTRACT:KIND:COUNT[:MARGIN]",
        help="open orders to create, e.g. BTC-USDT:order:1000",
    )
    parser.add_argument("--access-key", default="test-access")
    parser.add_argument("--secret-key", default="test-secret")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before arrival")
    parser.add_argument("--seed", type=int, default=None, help="seed for generated order ids")
    parser.add_argument("--ids-out", type=Path, default=None, metavar="PATH",
                        help="write the seeded ids by contract and kind: PATH.json gets a "
                             "JSON map {'CONTRACT:KIND': [ids]}; a PATH with {contract} and "
                             "{kind} one file a kind (one id a line); any other PATH one id a "
                             "line (one kind only)")
    parser.add_argument("--outsider-rate", type=float, default=None, metavar="PER_SECOND",
                        help="another program on the account placing orders at this rate")
    parser.add_argument("--fill-before-cancel", type=float, default=0.0, metavar="P",
                        help="chance an order fills just before its cancel (answers 1061)")
    parser.add_argument("--fill-during-cancel", type=float, default=0.0, metavar="P",
                        help="chance an order fills although its cancel was accepted")
    parser.add_argument("--cancelling-seconds", type=float, default=0.0,
                        help="cancelled orders show status 11 this long before 7")
    parser.add_argument("--error-style", choices=tuple(ERROR_STYLES), default="err_code",
                        help="the shape of whole-request errors")
    parser.add_argument("--ts-as-string", action="store_true", help="send ts as a string")
    parser.add_argument("--api", choices=("v5", "v1"), default="v5",
                        help="v5 (default): an account on HTX's new system, v1 private paths "
                             "answer 6023 (--migrated-code); v1: v1 works too (both are "
                             "served either way)")
    parser.add_argument("--migrated-code", type=int, choices=sorted(MIGRATED), default=6023,
                        help="what v1 paths answer with --api v5")
    parser.add_argument("--cancel-lag", type=float, default=0.0, metavar="S",
                        help="v5 reads show a cancelled order as new this long after its "
                             "cancel was accepted")
    parser.add_argument("--v5-style", choices=tuple(V5_STYLES), action="append", default=[],
                        help="a variant of the v5 envelope HTX sends (repeatable)")
    parser.add_argument("--cancel-all-nothing", choices=("empty", "1051"), default="empty",
                        help="v5 cancel-all with nothing open: [] or error 1051")
    return parser


def _seed(exchange: FakeExchange, specs: Sequence[SeedSpec]) -> dict[str, list[str]]:
    """Create the requested orders; their ids by ``CONTRACT:KIND``, in the order seeded."""
    ids: dict[str, list[str]] = {}
    for spec in specs:
        seeded = exchange.seed(spec.contract_code, spec.kind, spec.margin, spec.count)
        ids.setdefault(f"{spec.contract_code}:{spec.kind}", []).extend(seeded)
    return ids


def write_ids(path: Path, ids: dict[str, list[str]]) -> list[Path]:
    """Write the seeded ids as ``--ids-out`` says; the files written.

    ``*.json``: one JSON map ``{"CONTRACT:KIND": [ids]}``. A path with ``{contract}`` and/or
    ``{kind}``: one file a contract and kind, one id a line. Any other path: one id a line,
    only when one contract and kind were seeded (ValueError otherwise: the ids would mix).
    """
    if path.suffix == ".json":
        path.write_text(json.dumps(ids, indent=1) + "\n")
        return [path]
    text = str(path)
    if "{contract}" in text or "{kind}" in text:
        files: dict[Path, list[str]] = {}
        for key, group in ids.items():
            contract, kind = key.split(":")
            target = Path(text.format(contract=contract, kind=kind))
            files.setdefault(target, []).extend(group)
        for target, group in files.items():
            target.write_text("".join(f"{i}\n" for i in group))
        return list(files)
    if len(ids) > 1:
        raise ValueError(f"--ids-out {path}: {len(ids)} kinds were seeded ({', '.join(ids)}); "
                         "write them to a .json file or a path with {kind} in it")
    path.write_text("".join(f"{i}\n" for group in ids.values() for i in group))
    return [path]


async def serve(
    options: argparse.Namespace,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[FakeExchange], None] | None = None,
    out: TextIO | None = None,
) -> None:
    """Run the exchange described by ``options`` until ``stop`` is set (or forever)."""
    stream = out or sys.stdout
    exchange = FakeExchange(
        {options.access_key: options.secret_key},
        window=options.window,
        rate_limits=not options.no_rate_limits,
        latency=options.latency,
        seed=options.seed,
        host=options.host,
        port=options.port,
        outsider_rate=options.outsider_rate,
        fill_before_cancel=options.fill_before_cancel,
        fill_during_cancel=options.fill_during_cancel,
        cancelling_seconds=options.cancelling_seconds,
        error_style=options.error_style,
        ts_as_string=options.ts_as_string,
        migrated=options.api == "v5",
        migrated_code=options.migrated_code,
        cancel_lag=options.cancel_lag,
        v5_styles=options.v5_style,
        cancel_all_nothing=options.cancel_all_nothing,
    )
    async with exchange:
        ids = _seed(exchange, options.seed_orders)
        if options.ids_out is not None:
            write_ids(options.ids_out, ids)
        print(f"fake HTX exchange listening on {exchange.base_url}", file=stream)
        counts = ", ".join(f"{len(group)} {key}" for key, group in ids.items())
        print(f"seeded {sum(map(len, ids.values()))} orders"
              + (f" ({counts})" if len(ids) > 1 else ""), file=stream)
        v1 = (f"v1 private paths answer {options.migrated_code} (an account on the new system)"
              if options.api == "v5" else "v1 works too")
        print(f"serving v5 (/v5/...); {v1}", file=stream)
        print(f"keys it accepts: HTX_ACCESS_KEY={options.access_key} "
              f"HTX_SECRET_KEY={options.secret_key}", file=stream, flush=True)
        if on_ready is not None:
            on_ready(exchange)
        await (stop or asyncio.Event()).wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (1, with one line on stderr, if it cannot listen)."""
    parser = build_parser()
    options = parser.parse_args(argv)
    out = options.ids_out
    kinds = {(spec.contract_code, spec.kind) for spec in options.seed_orders}
    if out is not None and out.suffix != ".json" and "{" not in str(out) and len(kinds) > 1:
        parser.error(f"--ids-out {out}: {len(kinds)} contracts or kinds are seeded; write them "
                     "to a .json file (a map by CONTRACT:KIND) or a path with {kind} in it")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(options))
    except OSError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else (
            exc.strerror or str(exc))
        print(f"python -m htx_cancel.testing: cannot listen on {options.host}:{options.port}: "
              f"{reason.lower()} (pick another --port, or --port 0 for a free one)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
