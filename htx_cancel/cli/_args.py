"""The argument parser of ``htx-cancel`` and its exit statuses."""

from __future__ import annotations

import argparse
import math
from importlib import metadata
from typing import NoReturn
from urllib.parse import urlsplit

from .._switch import MIN_TIMEOUT

__all__ = [
    "DEFAULT_BASE_URL",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CommandFailed",
    "UsageError",
    "build_parser",
    "version",
]

EXIT_OK = 0  # every id cancelled (demo: every check passed)
EXIT_FAILED = 1  # some ids failed or are unknown, or the exchange could not be reached
EXIT_USAGE = 2  # bad arguments or input; nothing was sent
EXIT_INTERRUPTED = 130  # Ctrl-C; what was done is still reported

DEFAULT_BASE_URL = "https://api.hbdm.com"
FAULT_RATE = 0.05  # demo --faults: share of requests that meet a fault
FILL_RATE = 0.01  # demo --fills: share of regular orders that fill while being cancelled
KINDS = ("order", "algo", "trigger", "tpsl", "track")  # the library's names
APIS = ("v5", "v1")  # v5: order, algo (trigger, tpsl, track are algo there); v1: not algo
DEMO_API = "v5"  # HTX retired v1: the demo speaks what every account trades through
OLD_KINDS = {"regular": "order", "client": "order --client-order-ids"}  # deprecated aliases

EPILOG = """\
exit status: 0 every id cancelled, 1 some failed or unknown (or the exchange could not be
reached), 2 bad usage or input (nothing sent), 130 interrupted (what was done is reported).
Keys come from HTX_ACCESS_KEY and HTX_SECRET_KEY, never from arguments."""


class UsageError(Exception):
    """Bad arguments or input: one line for stderr, exit status 2, nothing sent."""


class CommandFailed(Exception):
    """The command could not start (e.g. Redis unreachable): one line for stderr, exit 1."""


def version() -> str:
    """The installed package's version (from its metadata, like ``htx_cancel.__version__``)."""
    try:
        return metadata.version("htx_cancel")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises UsageError instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _count(text: str) -> int:
    """A non-negative integer option."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return int(text)


def _share(text: str) -> float:
    """A fraction in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text!r}")
    return value


def _part(text: str) -> float:
    """A fraction in (0, 1]: this process's part of the account's limits."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], got {text!r}")
    return value


def _add_limits(parser: argparse.ArgumentParser) -> None:
    """--redis, --account and --share: how this run shares the account's limits."""
    group = parser.add_argument_group(
        "sharing the account's limits",
        "HTX counts limits per account. Two runs at once on one account need either Redis "
        "(--redis URL --account NAME: every process using the same URL and account shares the "
        "pools) or a share each (--share 0.5: this run uses half of every pool).")
    group.add_argument("--redis", metavar="URL",
                       help="share the pools through Redis (needs the redis extra)")
    group.add_argument("--account", metavar="NAME",
                       help="the account's name in Redis, e.g. its UID (with --redis)")
    group.add_argument("--share", type=_part, metavar="F",
                       help="use only this fraction of each pool (default 1)")


def _base_url(text: str) -> str:
    """The exchange's API root: http(s), a host, maybe a port, no path (HTX's paths follow it)."""
    try:
        parts = urlsplit(text)
        ok = (parts.scheme in ("http", "https") and bool(parts.hostname)
              and parts.path in ("", "/") and not parts.query and not parts.fragment
              and (parts.port is None or parts.port > 0))
    except ValueError:  # a port that is not a number
        ok = False
    if not ok:
        raise argparse.ArgumentTypeError(
            f"expected the API root, an http(s) URL with a host and no path (such as "
            f"{DEFAULT_BASE_URL} or http://127.0.0.1:8080), got {text!r}")
    return text.rstrip("/")


def _timeout(text: str) -> float:
    """Seconds for the dead man's switch: at least HTX's minimum of 5."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= MIN_TIMEOUT):
        raise argparse.ArgumentTypeError(
            f"expected seconds, at least {MIN_TIMEOUT:g} (HTX's minimum), got {text!r}")
    return value


def _rate(text: str) -> float:
    """A fault rate in [0, 0.5]: more would leave ids unknown after every retry."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 0.5:
        raise argparse.ArgumentTypeError(f"expected a rate between 0 and 0.5, got {text!r}")
    return value


def _add_output(parser: argparse.ArgumentParser) -> None:
    """--json and --no-progress."""
    parser.add_argument("--json", action="store_true",
                        help="print every id's outcome as JSON on stdout")
    parser.add_argument("--no-progress", action="store_true",
                        help="no live progress bar on stderr")


def _add_api(parser: argparse.ArgumentParser) -> None:
    """--api and --base-url: which of HTX's APIs, where."""
    parser.add_argument("--api", choices=APIS, default="v5",
                        help="HTX's v5 API (the default: every account trades through it since "
                        "13 Jul 2026) or the v1 endpoints")
    parser.add_argument("--base-url", type=_base_url,
                        help=f"the exchange's API root (default {DEFAULT_BASE_URL}; "
                        "https://api.hbdm.vn from AWS)")


def _add_target(parser: argparse.ArgumentParser, aliases: tuple[str, ...], *,
                contract_required: bool = True, default_kind: str | None = None) -> None:
    """--contract, --kind, --margin, --api, --base-url."""
    parser.add_argument("--contract", required=contract_required,
                        help="contract code, e.g. BTC-USDT")
    old = ", ".join(f"{name} ({OLD_KINDS[name]})" for name in aliases)
    parser.add_argument("--kind", required=default_kind is None, default=default_kind,
                        choices=(*KINDS, *aliases), metavar="{" + ",".join(KINDS) + "}",
                        help="which orders, by the library's names: on v5 order or algo "
                        "(trigger, tpsl and track are algo orders there), on v1 order, "
                        f"trigger, tpsl or track (deprecated: {old})")
    parser.add_argument("--margin", choices=("isolated", "cross"),
                        help="v1 only: the margin mode's endpoints (default isolated); v5 "
                        "cancels take none")
    _add_api(parser)


def _add_demo(sub: argparse._SubParsersAction[_Parser]) -> None:
    """The ``demo`` command."""
    demo = sub.add_parser(
        "demo", help="cancel thousands of orders on a local fake exchange with HTX's limits",
        description="Start the fake HTX exchange on 127.0.0.1 with HTX's real rate limits, "
        "seed open orders of every kind, cancel them all at full speed, and show how close "
        "to the rate-limit bound it got.", epilog=EPILOG)
    demo.add_argument("--orders", type=_count, default=3000,
                      help="orders of kind order, the regular ones (3000)")
    demo.add_argument("--trigger", type=_count, default=200, help="trigger orders (200)")
    demo.add_argument("--tpsl", type=_count, default=100, help="tp/sl orders (100)")
    demo.add_argument("--track", type=_count, default=100, help="track orders (100)")
    demo.add_argument("--cross-share", type=_share, default=0.2,
                      help="share of each kind in cross margin (0.2)")
    demo.add_argument("--client-share", type=_share, default=0.25,
                      help="share of kind order cancelled by client order id (0.25)")
    demo.add_argument("--unknown", type=_count, default=5,
                      help="ids that do not exist, to be reported as failed 1061 (5)")
    demo.add_argument("--duplicates", type=_count, default=5,
                      help="ids asked twice, to be reported once (5)")
    demo.add_argument("--contract", default="BTC-USDT")
    demo.add_argument("--seed", type=int, default=1, help="random seed for ids and the mix (1)")
    demo.add_argument("--latency", type=float, default=0.0,
                      help="seconds the fake exchange waits before a request arrives (0)")
    demo.add_argument("--fills", type=_share, default=FILL_RATE, metavar="P",
                      help="share of regular orders that fill while their cancel is processed: "
                      f"the exchange accepts the cancel, verification finds them filled "
                      f"({FILL_RATE})")
    demo.add_argument("--no-verify", action="store_true",
                      help="skip verification (orders that filled are then reported cancelled, "
                      "and a check fails when --fills is not 0)")
    demo.add_argument("--faults", type=_rate, nargs="?", const=FAULT_RATE, default=0.0,
                      metavar="P", help="inject faults (dropped connections, 5xx, garbled "
                      f"answers, 1004, a 1032) into a share P of the requests ({FAULT_RATE} "
                      "when no P is given) and show the retries lose nothing")
    demo.add_argument("--api", choices=APIS, default=DEMO_API,
                      help=f"cancel through HTX's v5 API or the v1 endpoints ({DEMO_API}: on "
                      "v5, verification still reads order info one id a request, so the "
                      "default demo would spend two minutes verifying)")
    _add_output(demo)


CANCEL_AFTER = """\
Arm HTX's dead man's switch (linear-cancel-after) once: unless something arms it again within
S seconds, the exchange cancels every open order of the account. This command arms it once and
exits; the switch then fires when S runs out unless re-armed (run the command again to push it
back, or --off to disarm). A bot should not call this on a schedule: use
client.cancel_after(S) as a context manager, which re-arms it in the background and disarms it
on a clean exit."""


def _add_cancel_after(sub: argparse._SubParsersAction[_Parser]) -> None:
    """The ``cancel-after`` command."""
    switch = sub.add_parser(
        "cancel-after", help="arm the exchange's dead man's switch once (or --off)",
        description=CANCEL_AFTER, epilog="exit status: 0 armed or disarmed, 1 the exchange "
        "refused or could not be reached, 2 bad usage (nothing sent). Keys come from "
        "HTX_ACCESS_KEY and HTX_SECRET_KEY.", formatter_class=argparse.RawDescriptionHelpFormatter)
    what = switch.add_mutually_exclusive_group(required=True)
    what.add_argument("--timeout", type=_timeout, metavar="S",
                      help=f"arm it: cancel everything in S seconds (at least {MIN_TIMEOUT:g}) "
                      "unless armed again")
    what.add_argument("--off", action="store_true", help="disarm it")
    _add_api(switch)
    switch.add_argument("--json", action="store_true", help="print the result as JSON")


def build_parser() -> argparse.ArgumentParser:
    """The whole ``htx-cancel`` command line."""
    parser = _Parser(prog="htx-cancel", epilog=EPILOG,
                     description="Cancel HTX USDT-margined swap orders as fast as the rate "
                     "limits allow, and never faster.")
    parser.add_argument("--version", action="version", version=f"htx-cancel {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_demo(sub)

    cancel = sub.add_parser("cancel", help="cancel orders by id", epilog=EPILOG,
                            description="Cancel orders by id (client order ids with "
                            "--client-order-ids). Ids: arguments, --ids-file FILE (one a line), "
                            "or - for stdin.")
    _add_target(cancel, ("regular", "client"))
    cancel.add_argument("--client-order-ids", action="store_true",
                        help="the ids are client order ids (on v5 also the algo orders' "
                        "client ids)")
    _add_limits(cancel)
    cancel.add_argument("ids", nargs="*", metavar="ID", help="ids to cancel; - reads stdin")
    cancel.add_argument("--ids-file", metavar="FILE",
                        help="a file with one id a line (# comments); - for stdin")
    cancel.add_argument("--verify", action="store_true",
                        help="then ask the exchange what became of every id (read pool), "
                        "cancel again what is still live, and show each id's state; an id "
                        "found filled or not found is a failure")
    _add_output(cancel)

    every = sub.add_parser("cancel-all", help="cancel every open order (of a kind, a contract)",
                           epilog=EPILOG, description="Cancel every open order on a contract "
                           "(v5: of kind order, optionally one side and position side; v1: of "
                           "one kind, optionally one direction and offset). On v5, without "
                           "--contract it cancels every open order of the account, on every "
                           "contract: say so with --all-contracts.")
    _add_target(every, ("regular",), contract_required=False, default_kind="order")
    every.add_argument("--all-contracts", action="store_true",
                       help="v5: no --contract, every contract of the account")
    _add_limits(every)
    every.add_argument("--side", choices=("buy", "sell"), help="v5: one side only")
    every.add_argument("--position-side", choices=("long", "short", "both"),
                       help="v5: one position side only")
    every.add_argument("--direction", choices=("buy", "sell"), help="v1: one direction only")
    every.add_argument("--offset", choices=("open", "close"),
                       help="v1: opening or closing orders only (not for tpsl)")
    _add_output(every)

    _add_cancel_after(sub)

    clock = sub.add_parser("time", help="this machine's clock against the exchange's",
                           description="Measure the offset between this machine's clock and "
                           "the exchange's (GET /api/v1/timestamp; no keys needed).")
    clock.add_argument("--base-url", type=_base_url, default=DEFAULT_BASE_URL,
                       help=f"the exchange's API root (default {DEFAULT_BASE_URL})")
    clock.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser
