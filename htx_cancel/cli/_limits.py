"""The limiter a ``cancel`` or ``cancel-all`` run draws on: its own, a share, or Redis."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from .._errors import RateLimiterError
from .._limits import DEFAULT_LIMITS, Limiter, RateLimiter, RateLimits
from ._args import CommandFailed, UsageError

__all__ = ["check_limits", "describe", "open_limiter"]


def _limits(share: float | None) -> RateLimits:
    """HTX's limits, scaled to this run's share."""
    return DEFAULT_LIMITS if share is None else RateLimits(share=share)


def check_limits(args: argparse.Namespace) -> None:
    """UsageError unless --redis and --account come together."""
    if (args.redis is None) != (args.account is None):
        raise UsageError("--redis and --account go together: --redis URL --account NAME")


def _where(url: str) -> str:
    """The Redis URL without its password, for messages."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "the given URL"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def describe(args: argparse.Namespace) -> str:
    """How this run shares the account's limits, for the summary."""
    part = "" if args.share is None else f", share {args.share:g}"
    if args.redis is not None:
        return f"limits shared through Redis ({_where(args.redis)}, account {args.account}){part}"
    return f"limits: this process alone{part}"


@asynccontextmanager
async def _redis(url: str, account: str, limits: RateLimits) -> AsyncIterator[Limiter]:
    """A RedisLimiter that answered a ping, closed on exit."""
    try:
        from ..redis_limiter import RedisLimiter
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != "redis":
            raise
        raise UsageError("--redis needs redis-py: pip install 'htx_cancel[redis]'") from None
    try:
        limiter = RedisLimiter(url, account, limits)
    except (ValueError, RateLimiterError) as exc:  # a bad URL or account; redis-py missing
        raise UsageError(str(exc)) from None
    async with limiter:
        try:
            await limiter.ping()
        except RateLimiterError as exc:
            raise CommandFailed(f"cannot use Redis at {_where(url)}: {exc}") from None
        yield limiter


@asynccontextmanager
async def open_limiter(args: argparse.Namespace) -> AsyncIterator[Limiter]:
    """The run's limiter: Redis with --redis/--account, else in-process (with --share)."""
    check_limits(args)
    limits = _limits(args.share)
    if args.redis is None:
        yield RateLimiter(limits)
        return
    async with _redis(args.redis, args.account, limits) as limiter:
        yield limiter
