-- issue_token: store one anti-replay token, under a per-client fixed 60 s
-- window rate limit. Atomic, so the count and the token agree.
--
-- KEYS[1] rate counter of the client
-- KEYS[2] the hash of unused tokens issued in this issue window
-- KEYS[3] metrics hash
-- ARGV[1] limit per window (0 = none)  ARGV[2] token TTL in seconds
-- ARGV[3] the identity the token is bound to ("" when unbound)
-- ARGV[4] the token's field (its key name)
-- ARGV[5] when the window's hash may go (unix seconds; every process that
--         writes this window computes the same value)
-- ARGV[6] the caller's clock (unix s)  ARGV[7] how far it may be from Redis's (s)
--
-- Returns {1, 0} when issued, {0, seconds left in the window} when limited.
--
-- An unused token is a field of its window's hash, "<expiry ms>" or
-- "<expiry ms>:<identity>", its expiry taken from Redis's clock. One hash
-- field costs less memory than one key with its own expiry (bench/README.md);
-- submit_order.lua checks the expiry, and moves a used token to a key of
-- its own that holds the outcome.

local now = redis.call('TIME')
-- The window was named by the caller's clock: too far from Redis's, and
-- the token could land where no submission looks, or in a hash already
-- past its expiry. Refuse, loudly (an error reply: 500, logged), before
-- anything is written: a refused request spends no rate budget.
if math.abs(tonumber(now[1]) - tonumber(ARGV[6])) > tonumber(ARGV[7]) then
  return redis.error_reply('ERR clock skew: this host says ' .. ARGV[6] .. ', Redis says ' ..
                           now[1] .. ' (more than ' .. ARGV[7] .. ' s apart); fix NTP')
end
local limit = tonumber(ARGV[1])
if limit > 0 then
  local used = redis.call('INCR', KEYS[1])
  local left_ms = redis.call('PTTL', KEYS[1])
  if left_ms < 0 then
    -- A new window (or, defensively, a counter that lost its expiry: it
    -- must never limit a client for good).
    redis.call('EXPIRE', KEYS[1], 60)
    left_ms = 60000
  end
  if used > limit then
    redis.pcall('HINCRBY', KEYS[3], 'rate_limited', 1)
    -- Round up: a client that waits Retry-After seconds finds a new window.
    return {0, math.max(1, math.ceil(left_ms / 1000))}
  end
end
local expires_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) +
                   tonumber(ARGV[2]) * 1000
local value = string.format('%.0f', expires_ms)
if ARGV[3] ~= '' then
  value = value .. ':' .. ARGV[3]
end
redis.call('HSET', KEYS[2], ARGV[4], value)
redis.call('EXPIREAT', KEYS[2], ARGV[5])
redis.pcall('HINCRBY', KEYS[3], 'tokens_issued', 1)
return {1, 0}
