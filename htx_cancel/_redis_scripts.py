"""The Lua scripts behind :class:`htx_cancel.redis_limiter.RedisLimiter`.

Every script reads time from ``redis.call('TIME')``: all processes of an account are judged by
the one clock of the Redis server, never by their own. Times are whole milliseconds (``now`` is
rounded down, every expiry is rounded up and one millisecond is added), so no hold is ever
shorter than asked, and every score stays an integer that Lua prints exactly.

Data model, per account (all keys share one hash tag, so they live in one cluster slot):

- ``pool:<name>``: sorted set of slot holders, member = ticket id, score = expiry (ms). While a
  request is in flight the expiry is ``now + lease``, so a dead process's slots free themselves;
  on completion it becomes ``now + period + guard``.
- ``pause:<name>``: exists (with a PX expiry) while the pool is paused after a 1032.
- ``hold:<name>``: slots that someone outside this limiter uses (``ratelimit-remaining``), PX.
- ``count:<name>``: grants so far, to compare with the exchange's count.
- ``q:<endpoint>``: the endpoint's FIFO queue, member = ticket id, score = arrival (``INCR seq``).
- ``qlive``: every queued ticket's lease (ms); an entry whose owner stops asking is dropped.
- ``qstrategy``: the leases of queued strategy tickets, for the trade-pool reserve.
"""

from __future__ import annotations

__all__ = ["ACQUIRE", "COMPLETE", "DEQUEUE", "OBSERVE", "PAUSE", "RELEASE"]

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: q, qlive, qstrategy, seq, then four per pool: zset, pause, hold, count (trade first)
# ARGV: tid, priority (0/1), lease_ms, queue_ttl_ms, reserve_cap, unknown_wait_ms, limits...
# Returns {granted, wait_ms, at_head, then per pool: used, count} (the last two if granted).
ACQUIRE = _NOW + """
local tid = ARGV[1]
local priority = ARGV[2] == '1'
local lease = tonumber(ARGV[3])
local qttl = tonumber(ARGV[4])
local q, qlive, qstrat = KEYS[1], KEYS[2], KEYS[3]
local npools = (#KEYS - 4) / 4

if not redis.call('ZSCORE', q, tid) then
  redis.call('ZADD', q, redis.call('INCR', KEYS[4]), tid)
end
redis.call('ZREMRANGEBYSCORE', qlive, '-inf', now)
redis.call('ZADD', qlive, now + qttl + 1, tid)
redis.call('PEXPIRE', q, qttl * 4)
redis.call('PEXPIRE', qlive, qttl * 4)
if priority then
  redis.call('ZADD', qstrat, now + qttl + 1, tid)
  redis.call('PEXPIRE', qstrat, qttl * 4)
end

local head = tid
for _ = 1, 64 do
  head = redis.call('ZRANGE', q, 0, 0)[1]
  if head == tid or redis.call('ZSCORE', qlive, head) then break end
  redis.call('ZREM', q, head)
  redis.call('ZREM', qstrat, head)
end

local reserve = 0
if not priority then
  redis.call('ZREMRANGEBYSCORE', qstrat, '-inf', now)
  reserve = math.min(redis.call('ZCARD', qstrat), tonumber(ARGV[5]))
end

local wait = 0
for i = 1, npools do
  local k = 4 + (i - 1) * 4
  local z, hk = KEYS[k + 1], KEYS[k + 3]
  redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
  local w = redis.call('PTTL', KEYS[k + 2])
  if w <= 0 then
    w = 0
    local used = redis.call('ZCARD', z)
    local room = tonumber(ARGV[6 + i]) - used
    local hold_ttl = redis.call('PTTL', hk)
    if hold_ttl > 0 then room = room - tonumber(redis.call('GET', hk)) end
    if i == 1 then room = room - reserve end
    if room <= 0 then
      local need = 1 - room
      if need <= used then
        w = tonumber(redis.call('ZRANGE', z, need - 1, need - 1, 'WITHSCORES')[2]) - now
      else
        w = tonumber(ARGV[6])
      end
      if hold_ttl > 0 and hold_ttl < w then w = hold_ttl end
      if w < 1 then w = 1 end
    end
  end
  if w > wait then wait = w end
end

if wait > 0 or head ~= tid then
  return {0, wait, head == tid and 1 or 0}
end

redis.call('ZREM', q, tid)
redis.call('ZREM', qlive, tid)
redis.call('ZREM', qstrat, tid)
local out = {1, 0, 1}
for i = 1, npools do
  local k = 4 + (i - 1) * 4
  local z = KEYS[k + 1]
  redis.call('ZADD', z, now + lease + 1, tid)
  redis.call('PEXPIRE', z, lease * 2)
  out[#out + 1] = redis.call('ZCARD', z)
  out[#out + 1] = redis.call('INCR', KEYS[k + 4])
end
return out
"""

# KEYS: the ticket's pool zsets. ARGV: tid, then per pool the hold after completion (ms).
COMPLETE = _NOW + """
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now + tonumber(ARGV[i + 1]) + 1, ARGV[1])
end
return 1
"""

# KEYS: per pool: zset, count. ARGV: tid. The request never left: free its slots.
RELEASE = """
for i = 1, #KEYS, 2 do
  if redis.call('ZREM', KEYS[i], ARGV[1]) == 1 then redis.call('DECR', KEYS[i + 1]) end
end
return 1
"""

# KEYS: q, qlive, qstrategy. ARGV: tid. A waiter gave up.
DEQUEUE = """
for i = 1, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return 1
"""

# KEYS: pause keys. ARGV: ms. Pause each pool for at least ms (never shorten a pause).
PAUSE = """
local ms = tonumber(ARGV[1])
for i = 1, #KEYS do
  if redis.call('PTTL', KEYS[i]) < ms then redis.call('SET', KEYS[i], '1', 'PX', ms) end
end
return 1
"""

# KEYS: count, hold. ARGV: limit, used at grant, count at grant, remaining, hold ms.
# Someone outside this limiter uses the account when the exchange reports fewer requests left
# than ours can explain: hold back the difference until the exchange's window resets.
OBSERVE = """
local limit, used, then_n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local later = tonumber(redis.call('GET', KEYS[1]) or then_n) - then_n
local deficit = (limit - used - later) - tonumber(ARGV[4])
if deficit <= 0 then return 0 end
local ms = tonumber(ARGV[5])
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then
  deficit = math.max(deficit, tonumber(redis.call('GET', KEYS[2])))
  ms = math.max(ms, ttl)
end
redis.call('SET', KEYS[2], deficit, 'PX', ms)
return deficit
"""
