"""The Redis limiter, the public module of the ``redis`` extra: many processes, one account.

See :class:`RedisLimiter` and docs/redis.md. Needs redis-py (``pip install htx_cancel[redis]``).
"""

from ._limits.redis_backend import RedisLimiter, RedisTicket

__all__ = ["RedisLimiter", "RedisTicket"]
