-- common: what the scripts share, written once. Every loader runs a script
-- as this file followed by the script, in one chunk: the programs (through
-- scripts/embed.sh), bench/redisbench and the tests (ar_lua in
-- tests/lib.sh). Only local functions here: nothing runs before a script's
-- own first line, so a script still checks its arguments before it reads
-- or writes anything.

-- A used key's record (an order's 'o', the gate's 'g') and where it is:
-- under outcome_key, or under client_outcome_key (keys = client: a key we
-- never issued). nil when neither holds one.
local function find_record(outcome_key, client_outcome_key)
  local state = redis.call('GET', outcome_key)
  if state or client_outcome_key == outcome_key then
    return state, outcome_key
  end
  return redis.call('GET', client_outcome_key), client_outcome_key
end

-- Redis's clock: whole seconds, and milliseconds.
local function redis_now()
  local t = redis.call('TIME')
  return tonumber(t[1]), tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The token windows were named by the caller's clock: one too far from
-- Redis's would look in the wrong windows (a live token answered
-- invalid_token) or write where nobody looks. The error reply to return
-- (a 500 that the caller logs), or nil when the clocks agree.
local function clock_skew_error(now_s, caller_now, max_skew)
  if math.abs(now_s - tonumber(caller_now)) > tonumber(max_skew) then
    return redis.error_reply('ERR clock skew: this host says ' .. caller_now .. ', Redis says ' ..
                             now_s .. ' (more than ' .. max_skew .. ' s apart); fix NTP')
  end
  return nil
end

-- An unused token is a field of its window's hash (issue_token.lua):
-- "<expiry ms>" or "<expiry ms>:<identity>". Looks in window_key(1..w),
-- the likeliest first; returns the window and the value, or nil.
local function find_unused(window_key, w, field)
  for i = 1, w do
    local value = redis.call('HGET', window_key(i), field)
    if value then
      return window_key(i), value
    end
  end
  return nil
end

-- true when that value is a live token of identity. An expired one waits
-- in its window's hash for the hash to expire, and counts as gone.
local function unused_is_valid(value, now_ms, identity)
  local colon = string.find(value, ':', 1, true)
  local expires_ms = tonumber(colon and string.sub(value, 1, colon - 1) or value)
  local owner = colon and string.sub(value, colon + 1) or ''
  return expires_ms ~= nil and now_ms < expires_ms and owner == identity
end

-- submit_rate, on first uses: nil while the client has budget left in its
-- 60 s window, else the seconds left (Retry-After). A counter that lost
-- its expiry must never limit a client for good.
local function first_uses_exceeded(key, limit)
  local used = tonumber(redis.call('GET', key) or '0') or 0
  if used < limit then
    return nil
  end
  local left_ms = redis.call('PTTL', key)
  if left_ms < 0 then
    redis.call('EXPIRE', key, 60)
    left_ms = 60000
  end
  return math.max(1, math.ceil(left_ms / 1000))
end

-- Spends one first use (the window starts with the first).
local function first_uses_spend(key)
  redis.call('INCR', key)
  if redis.call('PTTL', key) < 0 then
    redis.call('EXPIRE', key, 60)
  end
end

-- A write of what key already holds, so that the WAIT the caller sends
-- behind a script that otherwise only read (a replay, a confirm asked
-- again) covers the writes it answers from: since Redis 7.2 WAIT covers
-- only the connection's own replicated writes. pcall: under maxmemory the
-- answer matters more.
local function rewrite_same(key, value)
  redis.pcall('SET', key, value, 'KEEPTTL')
end

-- Bumps a counter of the metrics hash. Counters must never cost an answer:
-- under maxmemory (noeviction) Redis refuses HINCRBY, and a replay is
-- exactly what a client needs then.
local function bump(metrics_key, name)
  redis.pcall('HINCRBY', metrics_key, name, 1)
end
