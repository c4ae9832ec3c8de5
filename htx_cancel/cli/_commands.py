"""The ``cancel``, ``cancel-all``, ``cancel-after`` and ``time`` commands."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from .._catalog import Endpoint, Kind
from .._client import CancelClient
from .._credentials import Credentials
from .._errors import AuthenticationError, HTXError
from .._report import CancelReport
from ._args import EXIT_FAILED, EXIT_OK, UsageError
from ._common import (
    Streams,
    base_url_of,
    exchange_line,
    exit_status,
    make_client,
    print_json,
    run_interruptible,
    until_interrupted,
)
from ._inputs import contract_of, credentials, endpoint_of, id_field, kind_of, margin_of, read_ids
from ._limits import check_limits, describe, open_limiter
from ._progress import Tracker, make_tracker
from ._run import Job, Outcome, make_job, pending
from ._summary import outcome_json, print_details, print_summary, rows_of, verdict

__all__ = ["cancel", "cancel_after", "cancel_all", "clock"]


NOTHING = "nothing to cancel: no ids given"


async def cancel(args: argparse.Namespace, streams: Streams) -> int:
    """``htx-cancel cancel``: cancel the given ids, report every outcome."""
    kind = kind_of(args, streams.err)
    margin = margin_of(args)
    field = id_field(endpoint_of(args.api, kind, margin), args.client_order_ids)
    contract = contract_of(args.contract)
    check_limits(args)
    ids = read_ids(args.ids, args.ids_file, field, streams.stdin)
    keys = credentials()
    job = make_job(kind, contract, margin, ids, client_ids=args.client_order_ids,
                   verify=args.verify, api=args.api)
    outcome = Outcome([job.report])
    if not ids:  # an empty file or pipe: nothing open, nothing to do
        _report(args, streams, outcome, [job], note=NOTHING)
        return EXIT_OK
    tracker = make_tracker(streams.err_console(), not args.no_progress)
    error: str | None = None
    async with open_limiter(args) as limiter:
        client = make_client(keys, base_url_of(args.base_url), limiter, api=args.api)
        async with client:
            try:
                await run_interruptible(client, [job], outcome, tracker)
            except* HTXError as group:  # the shared limiter failed mid-run
                error = str(group.exceptions[0])
    _report(args, streams, outcome, [job], error)
    return EXIT_FAILED if error is not None else exit_status(outcome)


def _report(args: argparse.Namespace, streams: Streams, outcome: Outcome, jobs: Sequence[Job],
            error: str | None = None, note: str | None = None) -> None:
    """The outcome: JSON on stdout with --json, else the table and details on stdout."""
    left = pending(jobs)
    where = exchange_line(args.base_url, args.api)
    closing = verdict(outcome, left) if note is None else note
    rejected = outcome.auth_failure
    if error is None and rejected is not None:
        error = (f"the exchange rejected the key: {rejected.code} {rejected.message} (check "
                 "HTX_ACCESS_KEY, HTX_SECRET_KEY and this machine's clock: htx-cancel time)")
    if args.json:
        document = outcome_json(outcome, left)
        document["exchange"] = base_url_of(args.base_url)
        document["api"] = args.api
        if error is not None:
            document["error"] = error
        print_json(streams.out, document)
        if error is not None:
            streams.err.write(f"{args.command} failed: {error}\n")
        streams.err.write(f"{closing}\n{where}; {describe(args)}\n")
        return
    console = streams.out_console()
    if outcome.batches:
        print_summary(console, rows_of(outcome), f"htx-cancel {args.command}")
    print_details(console, outcome, left)
    if error is not None:
        console.print(f"{args.command} failed: {error}", highlight=False)
    console.print(f"{where}; {describe(args)}", highlight=False)
    console.print(closing, highlight=False)


_FILTERS = {"v5": ("side", "position_side"), "v1": ("direction", "offset")}


def _filters(args: argparse.Namespace, endpoint: Endpoint) -> dict[str, str]:
    """The cancel-all's filters given, checked against the API's; UsageError naming options."""
    given = {name: getattr(args, name) for names in _FILTERS.values() for name in names
             if getattr(args, name) is not None}
    own = _FILTERS[args.api]
    for name, value in given.items():
        option = "--" + name.replace("_", "-")
        if name not in own:
            other = ", ".join("--" + n.replace("_", "-") for n in own)
            raise UsageError(f"{option} is a filter of the other API; --api {args.api} "
                             f"takes {other}")
        if name not in endpoint.filters:
            raise UsageError(f"{endpoint.name} takes no {option}, got {value!r}")
    return given


def _all_target(args: argparse.Namespace) -> str | None:
    """The cancel-all's contract; None (every contract) only when the user said so."""
    if args.contract is not None:
        if args.all_contracts:
            raise UsageError("--contract and --all-contracts exclude each other")
        return contract_of(args.contract)
    if args.api == "v1":
        raise UsageError("--contract is required with --api v1 (v1 cancels one contract)")
    if not args.all_contracts:
        raise UsageError("no --contract: that cancels every open order of the account on every "
                         "contract; say --all-contracts to mean it")
    return None


async def _run_all(client: CancelClient, args: argparse.Namespace, kind: Kind,
                   contract: str | None, filters: dict[str, str], report: CancelReport,
                   tracker: Tracker) -> None:
    """One cancel-all request, with a spinner row; ``report`` fills when it is answered."""
    margin = margin_of(args)
    name = endpoint_of(args.api, kind, margin, cancel_all=True).name
    with tracker:
        tracker.add(name, None)
        try:
            await client.cancel_all(kind, contract, margin=margin, report=report,
                                    **filters)  # type: ignore[arg-type]
        finally:
            tracker.show(name, report.total, sum(b.attempts for b in report.batches))


def _failure_of(outcome: Outcome) -> str | None:
    """Why a cancel-all request failed as a whole (None if it worked or found nothing)."""
    if outcome.interrupted or not outcome.batches:
        return None
    last = outcome.batches[-1]
    if last.outcome == "pending":  # never answered (the run was stopped)
        return None
    return None if last.outcome == "ok" else (last.error or last.outcome)


async def cancel_all(args: argparse.Namespace, streams: Streams) -> int:
    """``htx-cancel cancel-all``: one cancel-all request, and the ids it cancelled."""
    kind = kind_of(args, streams.err)
    endpoint = endpoint_of(args.api, kind, margin_of(args), cancel_all=True)
    contract = _all_target(args)
    filters = _filters(args, endpoint)
    check_limits(args)
    keys = credentials()
    report = CancelReport()
    outcome = Outcome([report])
    tracker = make_tracker(streams.err_console(), not args.no_progress)
    error: str | None = None
    async with open_limiter(args) as limiter:
        client = make_client(keys, base_url_of(args.base_url), limiter, api=args.api)
        async with client:
            try:
                await until_interrupted(outcome, _run_all(client, args, kind, contract, filters,
                                                          report, tracker))
            except HTXError as exc:  # the shared limiter failed
                error = str(exc)
    error = error or _failure_of(outcome)
    _report(args, streams, outcome, [], error)
    return EXIT_FAILED if error is not None else exit_status(outcome)


def utc_text(epoch_ms: int) -> str:
    """``2026-11-21 09:50:33.123 UTC`` for epoch milliseconds."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{epoch_ms % 1000:03d} UTC"


def _refused(exc: HTXError) -> str:
    """Why the exchange refused, with a hint when it was the key."""
    if isinstance(exc, AuthenticationError):
        return (f"the exchange rejected the key: {exc} (check HTX_ACCESS_KEY, HTX_SECRET_KEY "
                "and this machine's clock: htx-cancel time)")
    return str(exc)


async def cancel_after(args: argparse.Namespace, streams: Streams) -> int:
    """``htx-cancel cancel-after``: arm the dead man's switch once, or disarm it."""
    keys = credentials()
    base_url = base_url_of(args.base_url)
    client = make_client(keys, base_url, api=args.api)
    # One request, no background task: the switch fires unless something arms it again.
    switch = client.cancel_after(args.timeout or 5.0)
    trigger: int | None = None
    async with client:
        try:
            if args.off:
                await switch.disarm()
            else:
                trigger = await switch.arm()
        except HTXError as exc:
            streams.err.write(f"htx-cancel cancel-after: {_refused(exc)}\n")
            return EXIT_FAILED
    where = exchange_line(args.base_url, args.api)
    if args.json:
        document: dict[str, object] = {"armed": not args.off, "exchange": base_url,
                                       "api": args.api}
        if not args.off:
            document.update(timeout_s=args.timeout, trigger_time=trigger,
                            trigger_time_utc=None if trigger is None else utc_text(trigger),
                            current_time=switch.current_time)
        print_json(streams.out, document)
        return EXIT_OK
    if args.off:
        text = "dead man's switch disarmed: the exchange will not cancel on a timer"
    else:
        when = ("(the exchange did not say when)" if trigger is None
                else f"at {utc_text(trigger)}")
        text = (f"dead man's switch armed for {args.timeout:g} s: unless it is armed again, "
                f"the exchange cancels every open order of the account {when}")
    streams.out.write(f"{text}\n{where}\n")
    return EXIT_OK


async def clock(args: argparse.Namespace, streams: Streams) -> int:
    """``htx-cancel time``: the exchange's clock minus this machine's."""
    # GET /api/v1/timestamp is public; the client wants a key pair, so it gets a dummy one.
    try:
        client = CancelClient(Credentials("public", "public"), api="v1", base_url=args.base_url,
                              rate_limits=None)
    except ValueError as exc:
        raise UsageError(str(exc).replace("base_url", "--base-url")) from None
    async with client:
        started = time.perf_counter()
        try:
            offset = await client.sync_time()
        except HTXError as exc:
            streams.err.write(f"htx-cancel time: {exc}\n")
            return EXIT_FAILED
        round_trip = time.perf_counter() - started
    if args.json:
        print_json(streams.out, {"offset_ms": round(offset * 1000, 3),
                                 "round_trip_ms": round(round_trip * 1000, 3),
                                 "exchange": args.base_url})
        return EXIT_OK
    side = "ahead of" if offset >= 0 else "behind"
    streams.out.write(f"the exchange's clock ({args.base_url}) is {abs(offset) * 1000:.1f} ms "
                      f"{side} this machine's (offset {offset * 1000:+.1f} ms, round trip "
                      f"{round_trip * 1000:.1f} ms)\n")
    return EXIT_OK
