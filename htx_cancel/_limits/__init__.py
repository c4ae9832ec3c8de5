"""Rate limiting: pure pool books and one policy, the scheduler and planner over them, and two
backends that keep the same books (in-process `RateLimiter`, Redis ``RedisLimiter``).

Modules, from the bottom: `.policy` (the rules: reserve, header matching, pauses),
`.outside` (what a pool learns of others' use), `.planner` (where strategy rounds
go), `.pools` (one pool's books), `.scheduler` (queues and grants over the books),
`.feedback`, `.limits`, `.protocol` (the ``Limiter`` protocol and the slot
handle), `.local` (the asyncio backend), `.redis_backend` with
`.redis_scripts` and `.redis_client` (the Redis backend; needs redis-py, imported
only by ``htx_cancel.redis_limiter``).
"""

from .._models import RateLimitHeaders
from .feedback import NOT_SENT, SENT, Feedback
from .limits import DEFAULT_LIMITS, RateLimits
from .local import RateLimiter, shared_limiter
from .pools import PoolSpec
from .protocol import Limiter, Slot, check_priority, hold_slot, resolve
from .scheduler import LEVELS, Scheduler, Ticket
from .stats import LimiterStats, PoolStats

__all__ = [
    "DEFAULT_LIMITS",
    "LEVELS",
    "NOT_SENT",
    "SENT",
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
