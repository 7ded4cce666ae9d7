-- issue_token: store one anti-replay token, under a per-client fixed 60 s
-- window rate limit. Atomic, so the count and the token agree.
--
-- KEYS[1] rate counter of the client   KEYS[2] the token   KEYS[3] metrics hash
-- ARGV[1] limit per window (0 = none)  ARGV[2] token TTL in seconds
-- ARGV[3] the identity the token is bound to ("" when unbound)
--
-- Returns {1, 0} when issued, {0, seconds left in the window} when limited.
-- An unused token's value is '1' when it is bound to no one (Redis keeps
-- small integers shared: no value is allocated per token) or 't' ..
-- identity; submit_order.lua replaces it with 'o' .. the recorded outcome.

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
redis.call('SET', KEYS[2], ARGV[3] == '' and '1' or 't' .. ARGV[3], 'EX', ARGV[2])
redis.pcall('HINCRBY', KEYS[3], 'tokens_issued', 1)
return {1, 0}
