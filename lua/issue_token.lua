-- issue_token: store one anti-replay token, under a per-client fixed 60 s
-- window rate limit. Atomic, so the count and the token agree.
--
-- KEYS[1] rate counter of the client   KEYS[2] the token   KEYS[3] metrics hash
-- ARGV[1] limit per window (0 = none)  ARGV[2] token TTL in seconds
-- ARGV[3] the identity the token is bound to ("" when unbound)
--
-- Returns {1, 0} when issued, {0, seconds left in the window} when limited.
-- The token's value is "t" .. identity: "t" marks a token not yet used;
-- submit_order.lua replaces it with "o" .. the recorded outcome.

local limit = tonumber(ARGV[1])
if limit > 0 then
  local used = redis.call('INCR', KEYS[1])
  if used == 1 then
    redis.call('EXPIRE', KEYS[1], 60)
  end
  if used > limit then
    local left = redis.call('TTL', KEYS[1])
    if left < 1 then left = 1 end
    redis.call('HINCRBY', KEYS[3], 'rate_limited', 1)
    return {0, left}
  end
end
redis.call('SET', KEYS[2], 't' .. ARGV[3], 'EX', ARGV[2])
redis.call('HINCRBY', KEYS[3], 'tokens_issued', 1)
return {1, 0}
