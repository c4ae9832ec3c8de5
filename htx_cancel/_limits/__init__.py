"""Rate limiting: pure pool books and one policy, the scheduler and planner over them, and two
backends that keep the same books (in-process :class:`RateLimiter`, Redis ``RedisLimiter``).

Modules, from the bottom: :mod:`.policy` (the rules: reserve, header matching, pauses),
:mod:`.outside` (what a pool learns of others' use), :mod:`.planner` (where strategy rounds
go), :mod:`.pools` (one pool's books), :mod:`.scheduler` (queues and grants over the books),
:mod:`.feedback`, :mod:`.limits`, :mod:`.protocol` (the ``Limiter`` protocol and the slot
handle), :mod:`.local` (the asyncio backend), :mod:`.redis_backend` with
:mod:`.redis_scripts` and :mod:`.redis_client` (the Redis backend; needs redis-py, imported
only by ``htx_cancel.redis_limiter``).
"""

from .._models import RateLimitHeaders
from .feedback import NOT_SENT, SENT, Feedback
from .limits import DEFAULT_LIMITS, RateLimits
from .local import RateLimiter, shared_limiter
from .pools import PoolSpec
from .protocol import Backend, Limiter, Slot, check_priority, hold_slot, resolve
from .scheduler import LEVELS, Scheduler, Ticket
from .stats import LimiterStats, PoolStats

__all__ = [
    "DEFAULT_LIMITS",
    "LEVELS",
    "NOT_SENT",
    "SENT",
    "Backend",
    "Feedback",
    "Limiter",
    "LimiterStats",
    "PoolSpec",
    "PoolStats",
    "RateLimitHeaders",
    "RateLimiter",
    "RateLimits",
    "Scheduler",
    "Slot",
    "Ticket",
    "check_priority",
    "hold_slot",
    "resolve",
    "shared_limiter",
]
