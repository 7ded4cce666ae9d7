-- gate: the atomic steps of a gate request (a web server asking whether a
-- request to another application may run), in two calls on one
-- connection:
--   reserve: the key, if unused, is held for this call's grant for
--            lease_ms (a record that expires by itself);
--   confirm: the grant's hold becomes final (kept result_ttl): the token
--            leaves its window, submit_rate is spent, 'allowed' is counted.
--   release: the grant's confirm is undone (the key is unused again, the
--            token back in its window): the caller's WAIT after the confirm
--            came back short, and it answers 503.
-- The caller answers 200 only after a confirm said 'allowed'. A hold it
-- never confirmed (its reply was lost, the caller gave up and answered
-- 503) goes by itself, so the key is usable again, as the client was told.
-- lease_ms is the caller's command timeout: a confirm that reaches Redis
-- after its caller gave up finds the hold gone and does nothing.
--
-- Its keys and arguments are named once, in the block below, in the order
-- src/store_gate.c appends them: 4 keys, then the w window hashes; 12
-- arguments.
--
-- Returns {verdict, value}: reserved | allowed | expired (the hold is gone)
-- | released
-- | pending (another call holds the key: value = ms left) | duplicate |
-- token_reused | invalid_token | rate_limited (value = Retry-After s).
--
-- The record is 'g' .. msgpack(identity, fingerprint, grant, state[,
-- window, value]), state 'held' or 'used'; a used token's record keeps the
-- window and the value it had there, for a release. submit_order.lua reads it too: a key used or held at
-- the gate is token_reused there.

local w = tonumber(ARGV[7])
if #ARGV ~= 12 or not w or w < 0 or #KEYS ~= 4 + w then
  return redis.error_reply('ERR gate: expected 4 + w keys and 12 arguments (w >= 0 windows); ' ..
                           'got ' .. #KEYS .. ' keys and ' .. #ARGV .. ' arguments')
end
if (ARGV[1] ~= 'reserve' and ARGV[1] ~= 'confirm' and ARGV[1] ~= 'release') or not tonumber(ARGV[4]) or
   not tonumber(ARGV[6]) or not tonumber(ARGV[12]) then
  return redis.error_reply('ERR gate: expected reserve, confirm or release, and numbers for ' ..
                           'result_ttl, lease_ms and submit_rate')
end
local outcome_key = KEYS[1]        -- the key's record, once held or used
local client_outcome_key = KEYS[2] -- under keys = client, where a key we never
                                   -- issued records it; else outcome_key
local metrics_key = KEYS[3]        -- the counters (hash)
local submit_rate_key = KEYS[4]    -- the client's first uses this minute
local function window_key(i)       -- the hashes of unused tokens, the
  return KEYS[4 + i]               -- likeliest window first
end
local op = ARGV[1]                 -- 'reserve', 'confirm' or 'release'
local identity = ARGV[2]           -- the caller's identity ('' when unbound)
local request = ARGV[3]            -- method and path (fingerprint input)
local result_ttl = ARGV[4]         -- how long a used key's record is kept (s)
local grant = ARGV[5]              -- the calling request's id (a fresh UUID)
local lease_ms = ARGV[6]           -- how long a hold lasts unconfirmed
-- ARGV[7] is w
local field = ARGV[8]              -- the token's field in its window hash; ''
                                   -- for a key that cannot be a token
local caller_now = ARGV[9]         -- the caller's clock (unix s)
local max_skew = ARGV[10]          -- how far it may be from Redis's (s)
local client_keys = ARGV[11]       -- '1': keys never issued are taken
local submit_rate = tonumber(ARGV[12]) -- first uses per client per 60 s (0: no limit)

local function answer(result, value)
  bump(metrics_key, 'gate_' .. result)
  return {result, value}
end

local function record(state, window, value)
  if window then
    return 'g' .. cmsgpack.pack(identity, redis.sha1hex(request), grant, state, window, value)
  end
  return 'g' .. cmsgpack.pack(identity, redis.sha1hex(request), grant, state)
end

-- The record, and where it is.
local state, state_key = find_record(outcome_key, client_outcome_key)

if op == 'confirm' then
  if not state or string.sub(state, 1, 1) ~= 'g' then
    return {'expired', 0}
  end
  local _, _, held_by, held = cmsgpack.unpack(string.sub(state, 2))
  if held_by ~= grant then
    return {'expired', 0}
  end
  if held == 'used' then
    rewrite_same(state_key, state)
    return {'allowed', 0} -- confirmed already: this is the caller's retry
  end
  -- INCR first: the one write that can fail on its data (a counter that is
  -- not a number) fails before the key is used.
  if submit_rate > 0 then
    first_uses_spend(submit_rate_key)
  end
  local window, value
  if field ~= '' then
    window, value = find_unused(window_key, w, field)
    if window then
      redis.call('HDEL', window, field)
    end
  end
  redis.call('SET', state_key, record('used', window, value), 'EX', result_ttl)
  return answer('allowed', 0)
end

if op == 'release' then
  if not state or string.sub(state, 1, 1) ~= 'g' then
    return {'released', 0}
  end
  local _, _, held_by, held, window, value = cmsgpack.unpack(string.sub(state, 2))
  if held_by ~= grant or held ~= 'used' then
    return {'released', 0}
  end
  -- Back in its window (one of this call's keys: a script touches only
  -- the keys it is given) while the token lives. The confirm's HDEL may
  -- have emptied the window, and Redis deletes an empty hash: one made
  -- again here lives as long as the token.
  local _, now_ms = redis_now()
  local expires_ms = window and tonumber(string.match(value, '^(%d+)'))
  for i = 1, w do
    if window_key(i) == window and expires_ms and expires_ms > now_ms then
      redis.call('HSET', window, field, value)
      if redis.call('PTTL', window) < 0 then
        redis.call('EXPIRE', window, math.ceil((expires_ms - now_ms) / 1000) + 1)
      end
    end
  end
  -- A hold that goes in a millisecond, not a DEL (the ACL line has no DEL):
  -- a request meanwhile waits it out, an order is told to retry.
  redis.call('SET', state_key, record('held'), 'PX', 1)
  if submit_rate > 0 and (tonumber(redis.call('GET', submit_rate_key)) or 0) > 0 then
    redis.call('DECRBY', submit_rate_key, 1)
  end
  redis.pcall('HINCRBY', metrics_key, 'gate_allowed', -1)
  return {'released', 0}
end

-- reserve. 1. A record: the key is held or was used, here or by an order.
if state then
  local kind = string.sub(state, 1, 1)
  if kind ~= 'g' and kind ~= 'o' then
    return redis.error_reply('ERR the record of this key is neither a gate\'s nor an order\'s')
  end
  local owner, fp, held_by, held = cmsgpack.unpack(string.sub(state, 2))
  if owner ~= identity then
    return answer('invalid_token', 0)
  end
  if kind == 'o' then
    return answer('token_reused', 0)
  end
  if held == 'held' and held_by ~= grant then
    return {'pending', math.max(1, redis.call('PTTL', state_key))}
  end
  if held_by == grant then
    return {'reserved', 0}
  end
  if fp == redis.sha1hex(request) then
    return answer('duplicate', 0)
  end
  return answer('token_reused', 0)
end

local now_s, now_ms = redis_now()
local skew = clock_skew_error(now_s, caller_now, max_skew)
if skew then
  return skew
end

-- 2. Unused: an issued token in its window's hash (it stays there until
-- the confirm), or under keys = client a key never issued.
local unused
local record_key = outcome_key
if field ~= '' then
  local _
  _, unused = find_unused(window_key, w, field)
end
if unused then
  if not unused_is_valid(unused, now_ms, identity) then
    return answer('invalid_token', 0)
  end
elseif client_keys == '1' then
  record_key = client_outcome_key
else
  return answer('invalid_token', 0)
end

-- 3. submit_rate: checked now, spent by the confirm (concurrent first uses
-- of one client can pass the check together: the limit bounds a client's
-- rate, not its concurrency).
if submit_rate > 0 then
  local retry_after = first_uses_exceeded(submit_rate_key, submit_rate)
  if retry_after then
    return answer('rate_limited', retry_after)
  end
end

-- 4. Hold it.
redis.call('SET', record_key, record('held'), 'PX', lease_ms)
return {'reserved', 0}
