-- issue_token: store one anti-replay token, under a per-client fixed 60 s
-- window rate limit. Atomic, so the count and the token agree.
--
-- Its keys and arguments are named once, in the block below, in the order
-- src/store.c appends them.
--
-- Returns {1, 0} when issued, {0, seconds left in the window} when limited.
--
-- An unused token is a field of its window's hash, "<expiry ms>" or
-- "<expiry ms>:<identity>", its expiry taken from Redis's clock. One hash
-- field costs less memory than one key with its own expiry (bench/README.md);
-- submit_order.lua checks the expiry, and moves a used token to a key of
-- its own that holds the outcome.

-- The arguments, named once. A call that does not match is refused.
if #KEYS ~= 3 or #ARGV ~= 7 then
  return redis.error_reply('ERR issue_token: expected 3 keys and 7 arguments; got ' .. #KEYS ..
                           ' keys and ' .. #ARGV .. ' arguments')
end
local rate_key = KEYS[1]        -- the client's rate counter
local window_key = KEYS[2]      -- the hash of unused tokens of this issue window
local metrics_key = KEYS[3]     -- the counters (hash)
local limit = tonumber(ARGV[1]) -- tokens per client per 60 s window (0: no limit)
local ttl_s = ARGV[2]           -- the token's TTL (s)
local identity = ARGV[3]        -- the identity it is bound to ('' when unbound)
local field = ARGV[4]           -- its field (its key name)
local window_expireat = ARGV[5] -- when the window's hash may go (unix s; every
                                -- process that writes it computes the same)
local caller_now = ARGV[6]      -- the caller's clock (unix s)
local max_skew = ARGV[7]        -- how far it may be from Redis's (s)

-- Refused before anything is written: a refused request spends no rate
-- budget (a token written by a skewed clock could also land in a hash
-- already past its expiry).
local now_s, now_ms = redis_now()
local skew = clock_skew_error(now_s, caller_now, max_skew)
if skew then
  return skew
end
if limit > 0 then
  local used = redis.call('INCR', rate_key)
  local left_ms = redis.call('PTTL', rate_key)
  if left_ms < 0 then
    -- A new window (or, defensively, a counter that lost its expiry: it
    -- must never limit a client for good).
    redis.call('EXPIRE', rate_key, 60)
    left_ms = 60000
  end
  if used > limit then
    bump(metrics_key, 'rate_limited')
    -- Round up: a client that waits Retry-After seconds finds a new window.
    return {0, math.max(1, math.ceil(left_ms / 1000))}
  end
end
local expires_ms = now_ms + tonumber(ttl_s) * 1000
local value = string.format('%.0f', expires_ms)
if identity ~= '' then
  value = value .. ':' .. identity
end
redis.call('HSET', window_key, field, value)
redis.call('EXPIREAT', window_key, window_expireat)
bump(metrics_key, 'tokens_issued')
return {1, 0}
