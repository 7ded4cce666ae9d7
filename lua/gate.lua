-- gate: the atomic step of a gate request (a web server asking whether a
-- request to another application may run). Consumes the key on first use
-- and records who used it, for which method and path, under which grant;
-- every later use is answered from that record.
--
-- Its keys and arguments are named once, in the block below, in the order
-- src/store_gate.c appends them: 5 keys, then the w window hashes; 10
-- arguments.
--
-- Returns {result, retry_after}: result is allowed | duplicate |
-- token_reused | invalid_token | rate_limited (the metric labels), or
-- released when this grant was already given back (gate_release.lua ran
-- first: this call arrived late, after its caller had answered 503).
--
-- The record is 'g' .. msgpack(identity, fingerprint, grant, window,
-- field, unused, window_expireat): what gate_release.lua needs to put the
-- key back (the window's hash may be gone by then: HDEL of its last field
-- deletes it).
-- submit_order.lua reads it too: a key used at the gate is token_reused
-- there.

local w = tonumber(ARGV[5])
if #ARGV ~= 10 or not w or w < 0 or #KEYS ~= 5 + w then
  return redis.error_reply('ERR gate: expected 5 + w keys and 10 arguments (w >= 0 windows); ' ..
                           'got ' .. #KEYS .. ' keys and ' .. #ARGV .. ' arguments')
end
local outcome_key = KEYS[1]        -- the key's record, once used
local client_outcome_key = KEYS[2] -- under keys = client, where a key we never
                                   -- issued records it; else outcome_key
local metrics_key = KEYS[3]        -- the counters (hash)
local submit_rate_key = KEYS[4]    -- the client's first uses this minute
local released_key = KEYS[5]       -- set when this grant was given back
local function window_key(i)       -- the hashes of unused tokens, the
  return KEYS[5 + i]               -- likeliest window first
end
local identity = ARGV[1]           -- the caller's identity ('' when unbound)
local request = ARGV[2]            -- method and path (fingerprint input)
local result_ttl = ARGV[3]         -- how long the record is kept (s)
local grant = ARGV[4]              -- this call's id (a fresh UUID)
-- ARGV[5] is w
local field = ARGV[6]              -- the token's field in its window hash; ''
                                   -- for a key that cannot be a token
local caller_now = ARGV[7]         -- the caller's clock (unix s)
local max_skew = ARGV[8]           -- how far it may be from Redis's (s)
local client_keys = ARGV[9]        -- '1': keys never issued are taken
local submit_rate = tonumber(ARGV[10]) -- first uses per client per 60 s (0: no limit)

local function answer(result, retry_after)
  bump(metrics_key, 'gate_' .. result)
  return {result, retry_after}
end

if redis.call('EXISTS', released_key) == 1 then
  return {'released', 0}
end

-- 1. A record: the key was used, here or by an order.
local state = redis.call('GET', outcome_key)
if not state and client_outcome_key ~= outcome_key then
  state = redis.call('GET', client_outcome_key)
end
if state then
  local kind = string.sub(state, 1, 1)
  if kind ~= 'g' and kind ~= 'o' then
    return redis.error_reply('ERR the record of this key is neither a gate\'s nor an order\'s')
  end
  local owner, fp, used_by = cmsgpack.unpack(string.sub(state, 2))
  if owner ~= identity then
    return answer('invalid_token', 0)
  end
  if kind == 'o' then
    return answer('token_reused', 0)
  end
  if used_by == grant then
    return {'allowed', 0}
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

-- 2. Unused: an issued token in its window's hash (issue_token.lua), or
-- under keys = client a key never issued.
local window, unused
local record_key = outcome_key
if field ~= '' then
  window, unused = find_unused(window_key, w, field)
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

-- 3. submit_rate, on first uses only; the counter is the first write.
if submit_rate > 0 then
  local retry_after = first_uses_exceeded(submit_rate_key, submit_rate)
  if retry_after then
    return answer('rate_limited', retry_after)
  end
  first_uses_spend(submit_rate_key)
end

-- 4. Consume it.
local window_expireat = 0
if window then
  window_expireat = math.ceil((now_ms + redis.call('PTTL', window)) / 1000)
end
redis.call('SET', record_key, 'g' .. cmsgpack.pack(identity, redis.sha1hex(request), grant,
                                                    window or '', field, unused or '',
                                                    window_expireat),
           'EX', result_ttl)
if window then
  redis.call('HDEL', window, field)
end
return answer('allowed', 0)
