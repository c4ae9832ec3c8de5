"""Parse the arguments, run the command in an event loop, map errors to exit statuses."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence

from ._args import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CommandFailed,
    UsageError,
    build_parser,
)
from ._commands import cancel, cancel_after, cancel_all, clock
from ._common import Streams
from ._demo import demo

__all__ = ["run", "run_async"]

Command = Callable[[argparse.Namespace, Streams], Awaitable[int]]
COMMANDS: dict[str, Command] = {
    "demo": demo,
    "cancel": cancel,
    "cancel-all": cancel_all,
    "cancel-after": cancel_after,
    "time": clock,
}


def _streams() -> Streams:
    """The process's streams, looked up now (tests replace them)."""
    return Streams(sys.stdout, sys.stderr, sys.stdin)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace | int:
    """The parsed arguments, or an exit status (usage error, --help)."""
    try:
        return build_parser().parse_args(argv)
    except UsageError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_USAGE
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK


async def run_async(argv: Sequence[str] | None = None) -> int:
    """Run a command in the running loop; usage errors become exit status 2."""
    args = _parse(argv)
    if isinstance(args, int):
        return args
    try:
        return await COMMANDS[args.command](args, _streams())
    except UsageError as exc:
        sys.stderr.write(f"htx-cancel {args.command}: {exc}\n")
        return EXIT_USAGE
    except CommandFailed as exc:
        sys.stderr.write(f"htx-cancel {args.command}: {exc}\n")
        return EXIT_FAILED


def run(argv: Sequence[str] | None = None) -> int:
    """Run a command in a new event loop; Ctrl-C before the command can report is 130."""
    try:
        return asyncio.run(run_async(argv))
    except KeyboardInterrupt:
        sys.stderr.write("htx-cancel: interrupted\n")
        return EXIT_INTERRUPTED
