"""What the commands share: the streams, consoles, the client, and running jobs with Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from rich.console import Console

from .._client import CancelClient
from .._credentials import Credentials
from .._limits import DEFAULT_LIMITS, Limiter, RateLimiter
from ._args import DEFAULT_BASE_URL, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError
from ._progress import Tracker
from ._run import Job, Outcome, run_jobs

__all__ = ["Streams", "base_url_of", "exchange_line", "exit_status", "make_client",
           "print_json", "run_interruptible", "until_interrupted"]

WIDE = 120  # columns for tables when stdout is not a terminal and COLUMNS is not set


@dataclass(frozen=True, slots=True)
class Streams:
    """stdout for results, stderr for progress and errors, stdin for ids."""

    out: TextIO
    err: TextIO
    stdin: TextIO

    def out_console(self) -> Console:
        """A rich console on stdout: the terminal's width, else COLUMNS, else 120 columns.

        When stdout is not a terminal the text is plain (no colours).
        """
        console = Console(file=self.out, highlight=False)
        if not console.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
            console = Console(file=self.out, highlight=False, width=WIDE)
        return console

    def err_console(self) -> Console:
        """A rich console on stderr."""
        return Console(file=self.err, highlight=False)


def make_client(credentials: Credentials, base_url: str, limiter: Limiter | None = None, *,
                api: str = "v5") -> CancelClient:
    """A client of ``api`` on ``limiter`` (default: HTX's limits, its own); UsageError for a bad
    URL."""
    try:
        return CancelClient(credentials, api="v1" if api == "v1" else "v5", base_url=base_url,
                            limiter=limiter if limiter is not None else RateLimiter(DEFAULT_LIMITS))
    except ValueError as exc:  # the library names its parameter; the user typed the option
        raise UsageError(str(exc).replace("base_url", "--base-url")) from None


def base_url_of(given: str | None) -> str:
    """The exchange's API root: the one given, or HTX's."""
    return DEFAULT_BASE_URL if given is None else given


def exchange_line(given: str | None, api: str) -> str:
    """Which exchange and API a run used, saying so when the URL was the default."""
    if given is None:
        return (f"exchange: {DEFAULT_BASE_URL} (the default; --base-url https://api.hbdm.vn "
                f"from AWS), API {api}")
    return f"exchange: {given}, API {api}"


async def until_interrupted(outcome: Outcome, work: Awaitable[None]) -> None:
    """Await ``work``; a cancellation (Ctrl-C) stops it and sets ``outcome.interrupted``."""
    try:
        await work
    except asyncio.CancelledError:
        outcome.interrupted = True
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()


async def run_interruptible(client: CancelClient, jobs: Sequence[Job], outcome: Outcome,
                            tracker: Tracker) -> None:
    """Run the jobs (their reports are ``outcome``'s) until done or interrupted."""
    await until_interrupted(outcome, run_jobs(client, jobs, tracker))


def exit_status(outcome: Outcome) -> int:
    """130 if interrupted, 0 if every id was cancelled, 1 otherwise."""
    if outcome.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if outcome.ok else EXIT_FAILED


def print_json(stream: TextIO, document: dict[str, Any]) -> None:
    """One JSON document, one line."""
    stream.write(json.dumps(document, separators=(",", ":")) + "\n")
    stream.flush()
