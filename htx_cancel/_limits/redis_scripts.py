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
- ``q:<level>:<endpoint>``: the FIFO queue of an endpoint at one priority level (0 high, 1
  normal, 2 low), member = ticket id, score = arrival (``INCR seq``).
- ``qlive``: every queued ticket's lease (ms); an entry whose owner stops asking is dropped.
- ``qstrategy:<level>``: the leases of queued strategy tickets of one priority level, and
  ``qneed:<level>`` (hash, ticket id -> ``"<need> <cap> <endpoint>"``): how many requests the
  ticket's process has queued behind it (its lane), at most the endpoint's per-window need
  ``cap``; together they give the trade-pool reserve, computed as in-process
  (:func:`htx_cancel._limits.policy.strategy_reserve`): per endpoint the queued requests of the
  requester's level or higher, capped at the endpoint's per-window need, summed, capped at
  ``reserve_cap``.
- ``warm:<pool>``: exists while the pool's state is known (an answer came back lately);
  without it one request goes alone (a probe) and the others wait for its answer.
- ``wait:<pool>:<level>``: the leases of tickets of that level that lack room in that pool; a
  ticket of a lower level gets no slot of the pool while one is there.
- ``gen``: the generation of the account's books. A Redis that lost its data (a restart without
  persistence, ``FLUSHALL``, a failover to a replica that missed the last writes) has none, or
  another: every process then writes back the slots it holds (:data:`SEED`) before it is
  granted again, and ``settle`` (PX) holds every grant until the others have done the same.
- ``floor:<pool>``: after such a loss, the most slots a process saw in use just before it (PX,
  until they have surely lapsed): a pool counts at least that many, so the slots of a process
  that ended before the loss (nobody can write them back) still count.
"""

from __future__ import annotations

__all__ = ["ACQUIRE", "COMPLETE", "DEQUEUE", "GENERATION", "HOLD", "OBSERVE", "PAUSE", "RELEASE",
           "RESERVE", "SEED", "STATS", "WARM"]

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# The reserve rule of htx_cancel._limits.policy.strategy_reserve, in Lua: entries are
# "<requests> <per-window need> <endpoint>"; per endpoint the requests summed, at most its need;
# in all at most cap. tests/redis/test_redis_policy.py holds it to the Python rule.
_RESERVE_FN = """
local function strategy_reserve(entries, cap)
  local counts, needs = {}, {}
  for _, v in ipairs(entries) do
    local n, c, ep = string.match(v, '^(%d+) (%d+) (.+)$')
    counts[ep] = (counts[ep] or 0) + tonumber(n)
    needs[ep] = tonumber(c)
  end
  local total = 0
  for ep, n in pairs(counts) do total = total + math.min(n, needs[ep]) end
  return math.min(total, cap)
end
"""

# ARGV: cap, then entries. The rule alone, for the test that holds it to the Python one.
RESERVE = _RESERVE_FN + """
local entries = {}
for i = 2, #ARGV do entries[#entries + 1] = ARGV[i] end
return strategy_reserve(entries, tonumber(ARGV[1]))
"""

# KEYS: q, qlive, qstrategy0..2, qneed0..2, seq, gen, settle, then nine per pool: zset, pause,
#       hold, count, wait0..wait2, warm, floor
# ARGV: tid, strategy (0/1), lease_ms, queue_ttl_ms, reserve_cap, unknown_wait_ms, level,
#       then the limits of the pools, then their holds after completion (ms), then probe (0/1),
#       the endpoint's per-window need cap (strategy), the endpoint, the requests queued in the
#       caller's lane (this one included), the generation the caller's books belong to
# Returns {granted, wait_ms, at_head, then per pool: used, count, then per pool: ms until its
# last answered slot lapses} if granted, else {0, wait_ms, at_head, then per pool: slots in
# use, then per pool: those ms};
# {-1, 0, 0} when the account's generation is not the caller's (it must SEED first).
ACQUIRE = _NOW + _RESERVE_FN + """
local tid = ARGV[1]
local strategy = ARGV[2] == '1'
local lease = tonumber(ARGV[3])
local qttl = tonumber(ARGV[4])
local level = tonumber(ARGV[7])
local q, qlive = KEYS[1], KEYS[2]
local qstrat, qneed = KEYS[3 + level], KEYS[6 + level]
local base = 11
local per = 9
local npools = (#KEYS - base) / per
local probe = ARGV[8 + 2 * npools] == '1'
local cap = tonumber(ARGV[9 + 2 * npools])

if redis.call('GET', KEYS[10]) ~= ARGV[12 + 2 * npools] then return {-1, 0, 0} end
local settle = redis.call('PTTL', KEYS[11])
if settle > 0 then return {0, settle, 0} end

if not redis.call('ZSCORE', q, tid) then
  redis.call('ZADD', q, redis.call('INCR', KEYS[9]), tid)
end
redis.call('ZREMRANGEBYSCORE', qlive, '-inf', now)
redis.call('ZADD', qlive, now + qttl + 1, tid)
redis.call('PEXPIRE', q, qttl * 4)
redis.call('PEXPIRE', qlive, qttl * 4)
if strategy then
  local need = math.min(tonumber(ARGV[11 + 2 * npools]), cap)
  redis.call('ZADD', qstrat, now + qttl + 1, tid)
  redis.call('HSET', qneed, tid, need .. ' ' .. cap .. ' ' .. ARGV[10 + 2 * npools])
  redis.call('PEXPIRE', qstrat, qttl * 4)
  redis.call('PEXPIRE', qneed, qttl * 4)
end

local head = tid
for _ = 1, 64 do
  head = redis.call('ZRANGE', q, 0, 0)[1]
  if head == tid or redis.call('ZSCORE', qlive, head) then break end
  redis.call('ZREM', q, head)
  redis.call('ZREM', qstrat, head)
  redis.call('HDEL', qneed, head)
end

-- the reserve, as in-process: queued strategy requests of this level or a higher one, per
-- endpoint at most its per-window need, in all at most reserve_cap
local reserve = 0
if not strategy then
  local entries = {}
  for lv = 0, level do
    local live = redis.call('ZRANGEBYSCORE', KEYS[3 + lv], '(' .. now, '+inf')
    if #live > 0 then
      for _, v in ipairs(redis.call('HMGET', KEYS[6 + lv], unpack(live))) do
        if v then entries[#entries + 1] = v end
      end
    end
  end
  reserve = strategy_reserve(entries, tonumber(ARGV[5]))
end

local wait = 0
local higher = false
local useds, lasts = {}, {}
for i = 1, npools do
  local k = base + (i - 1) * per
  local z, hk = KEYS[k + 1], KEYS[k + 3]
  redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
  useds[i] = redis.call('ZCARD', z)
  -- when the last answered slot lapses (slots in flight, on a lease, are left out)
  local last = redis.call('ZREVRANGEBYSCORE', z, now + tonumber(ARGV[7 + npools + i]) + 1,
                          '-inf', 'WITHSCORES', 'LIMIT', 0, 1)
  lasts[i] = last[2] and math.max(0, tonumber(last[2]) - now) or 0
  local w = redis.call('PTTL', KEYS[k + 2])
  if w <= 0 then
    w = 0
    local used = redis.call('ZCARD', z)
    -- after a loss of the books: at least what the processes saw in use before it
    local floor_ttl = redis.call('PTTL', KEYS[k + 9])
    local counted = used
    if floor_ttl > 0 then counted = math.max(used, tonumber(redis.call('GET', KEYS[k + 9]))) end
    local room = tonumber(ARGV[7 + i]) - counted
    local hold_ttl = redis.call('PTTL', hk)
    if hold_ttl > 0 then room = room - tonumber(redis.call('GET', hk)) end
    if i == 1 then room = room - reserve end
    if probe and redis.call('EXISTS', KEYS[k + 8]) == 0 then
      -- nothing is known of the pool: one request goes alone and is answered first
      local after = now + tonumber(ARGV[7 + npools + i]) + 1
      if redis.call('ZCOUNT', z, '(' .. after, '+inf') > 0 then room = math.min(room, 0) end
      room = math.min(room, 1)
    end
    if room <= 0 then
      local need = 1 - room
      if need <= used then
        w = tonumber(redis.call('ZRANGE', z, need - 1, need - 1, 'WITHSCORES')[2]) - now
      else
        w = tonumber(ARGV[6])
      end
      if hold_ttl > 0 and hold_ttl < w then w = hold_ttl end
      if counted > used and floor_ttl < w then w = floor_ttl end
      if w < 1 then w = 1 end
    end
  end
  for lv = 0, level - 1 do
    local wk = KEYS[k + 5 + lv]
    redis.call('ZREMRANGEBYSCORE', wk, '-inf', now)
    if redis.call('ZCARD', wk) > 0 then higher = true end
  end
  local mine = KEYS[k + 5 + level]
  if w > 0 and head == tid then
    redis.call('ZADD', mine, now + qttl + 1, tid)
    redis.call('PEXPIRE', mine, qttl * 4)
  else
    redis.call('ZREM', mine, tid)
  end
  if w > wait then wait = w end
end

if wait > 0 or head ~= tid or higher then
  local out = {0, wait, (head == tid and not higher) and 1 or 0}
  for i = 1, npools do out[#out + 1] = useds[i] end
  for i = 1, npools do out[#out + 1] = lasts[i] end
  return out
end

redis.call('ZREM', q, tid)
redis.call('ZREM', qlive, tid)
redis.call('ZREM', qstrat, tid)
redis.call('HDEL', qneed, tid)
local out = {1, 0, 1}
for i = 1, npools do
  local k = base + (i - 1) * per
  local z = KEYS[k + 1]
  redis.call('ZADD', z, now + lease + 1, tid)
  redis.call('PEXPIRE', z, lease * 2)
  out[#out + 1] = redis.call('ZCARD', z)
  out[#out + 1] = redis.call('INCR', KEYS[k + 4])
end
for i = 1, npools do out[#out + 1] = lasts[i] end
return out
"""

# KEYS: the ticket's pool zsets. ARGV: tid, then per pool the hold after completion (ms).
COMPLETE = _NOW + """
for i = 1, #KEYS do
  local ms = tonumber(ARGV[i + 1])
  redis.call('ZADD', KEYS[i], now + ms + 1, ARGV[1])
  if redis.call('PTTL', KEYS[i]) < ms * 2 then redis.call('PEXPIRE', KEYS[i], ms * 2) end
end
return 1
"""

# KEYS: gen, settle, then per pool: zset, floor. ARGV: the caller's generation token,
# settle_ms (0: the caller had no books in Redis before), then per pool: the slots the caller
# last saw in use there (every process's), ms until those have surely lapsed, the number n of
# the caller's own slots, and n pairs (ticket id, ms from now until the slot is free).
# Writes the caller's slots back (never shortening one) and raises the pool's floor (what was
# in use before a loss: slots of a process that is gone count until they lapse); returns the
# generation now in force, the caller's token if the account had none (then every grant waits
# settle_ms, for the other processes to write theirs back).
SEED = _NOW + """
if redis.call('SET', KEYS[1], ARGV[1], 'NX') and tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[2], '1', 'PX', tonumber(ARGV[2]))
end
local i = 3
for k = 3, #KEYS, 2 do
  local seen, seen_ms, n = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  local floor = KEYS[k + 1]
  if seen > 0 and seen_ms > 0 then
    local ttl = redis.call('PTTL', floor)
    if ttl <= 0 or tonumber(redis.call('GET', floor)) < seen then
      redis.call('SET', floor, seen, 'PX', seen_ms)
    end
  end
  local longest = 0
  for j = 1, n do
    local ms = tonumber(ARGV[i + 2 + 2 * j])
    redis.call('ZADD', KEYS[k], 'GT', now + ms + 1, ARGV[i + 1 + 2 * j])
    if ms > longest then longest = ms end
  end
  if n > 0 and redis.call('PTTL', KEYS[k]) < longest * 2 then
    redis.call('PEXPIRE', KEYS[k], longest * 2)
  end
  i = i + 2 * n + 3
end
return redis.call('GET', KEYS[1])
"""

# KEYS: gen. The generation in force (nil if the account's books were lost).
GENERATION = """
return redis.call('GET', KEYS[1])
"""

# KEYS: per pool: zset, count. ARGV: tid. The request never left: free its slots.
RELEASE = """
for i = 1, #KEYS, 2 do
  if redis.call('ZREM', KEYS[i], ARGV[1]) == 1 then redis.call('DECR', KEYS[i + 1]) end
end
return 1
"""

# KEYS: q, qlive, qstrategy of its level, its wait keys, then qneed of its level. ARGV: tid.
# A waiter gave up.
DEQUEUE = """
for i = 1, #KEYS - 1 do redis.call('ZREM', KEYS[i], ARGV[1]) end
redis.call('HDEL', KEYS[#KEYS], ARGV[1])
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

# KEYS: count. ARGV: limit, used at grant, count at grant, remaining.
# What the exchange counted beyond what this limiter can explain is someone else's: the count
# goes back to the process, whose htx_cancel._limits.outside.OutsideUse turns it into a hold.
OBSERVE = """
local limit, used, then_n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local later = tonumber(redis.call('GET', KEYS[1]) or then_n) - then_n
return math.max(0, limit - tonumber(ARGV[4]) - used - later)
"""

# KEYS: warm keys. ARGV: ms. The pools were answered: no more probing for ms.
WARM = """
for i = 1, #KEYS do redis.call('SET', KEYS[i], '1', 'PX', tonumber(ARGV[1])) end
return 1
"""

# KEYS: hold, warm. ARGV: slots, ms. A process's standing hold for outside use: the largest of the
# processes' holds stands until it lapses (each process renews its own as it learns).
HOLD = """
local n, ms = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('SET', KEYS[2], '1', 'PX', ms)
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 and tonumber(redis.call('GET', KEYS[1])) > n then return 0 end
if n <= 0 then
  if ttl > 0 then redis.call('DEL', KEYS[1]) end
  return 0
end
redis.call('SET', KEYS[1], n, 'PX', ms)
return n
"""

# KEYS: per pool: zset, pause, hold. ARGV: per pool the hold after completion (ms).
# Returns per pool: in flight, held, pause ms left, outside hold.
STATS = _NOW + """
local out = {}
for i = 1, #KEYS, 3 do
  local z = KEYS[i]
  redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
  local total = redis.call('ZCARD', z)
  local held = redis.call('ZCOUNT', z, '-inf', now + tonumber(ARGV[(i + 2) / 3]) + 1)
  local pause = math.max(0, redis.call('PTTL', KEYS[i + 1]))
  local hold = 0
  if redis.call('PTTL', KEYS[i + 2]) > 0 then hold = tonumber(redis.call('GET', KEYS[i + 2])) end
  out[#out + 1] = total - held
  out[#out + 1] = held
  out[#out + 1] = pause
  out[#out + 1] = hold
end
return out
"""
