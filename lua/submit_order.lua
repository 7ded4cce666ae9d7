-- submit_order: the atomic step. Checks the token, compares the payload
-- with any earlier outcome, checks and reserves stock for every line (all
-- or nothing), stores the order, appends it to the stream, records the
-- outcome under the token and bumps the counters, in one call.
--
-- KEYS[1] the token's outcome key     KEYS[2] the new order (hash)
-- KEYS[3] orders stream               KEYS[4] metrics hash
-- KEYS[5 .. 4+w] the hashes of unused tokens of every issue window the
--                token can be in, the likeliest first
-- KEYS[5+w .. 4+w+n] stock of each line, request order
-- ARGV[1] identity         ARGV[2] canonical order (fingerprint input)
-- ARGV[3] result TTL (s)   ARGV[4] 'replay' or 'reject'
-- ARGV[5] new order id     ARGV[6] new order JSON
-- ARGV[7] w                ARGV[8] the token's field in its window hash
-- ARGV[9] the caller's clock (unix s)   ARGV[10] how far it may be from Redis's (s)
-- ARGV[11 .. 10+n] qty of each line   ARGV[11+n .. 10+2n] sku of each line
--
-- Returns {result, outcome, order_id, body, sku, available}, where result is
-- created | replayed | rejected | token_reused | invalid_token | unknown_sku
-- | out_of_stock (the metric labels) and outcome is the recorded first
-- outcome (created | unknown_sku | out_of_stock) or ''. The body of an
-- order created now is not sent back: the caller has it.
--
-- Everything that can fail is checked before the first write: Redis does
-- not roll a script back.

local w = tonumber(ARGV[7])
local n = #KEYS - 4 - w
local identity = ARGV[1]
local field = ARGV[8]

-- Counters must never cost an answer: under maxmemory (noeviction) Redis
-- refuses HINCRBY, and a replay is exactly what a client needs then.
local function count(result)
  redis.pcall('HINCRBY', KEYS[4], result, 1)
end

-- DECRBY accepts only a plain integer; tonumber() also takes "2.5", " 5",
-- "1e3" or "0x10". Check with DECRBY's own rule before any write, or a later
-- line could fail after earlier lines were decremented.
local function stock_value(s)
  if #s > 18 or not string.match(s, '^%-?%d+$') then
    return nil
  end
  return tonumber(s)
end

local function answer(result, outcome, order_id, body, sku, available)
  count(result)
  return {result, outcome, order_id, body, sku, available}
end

-- 1. A recorded outcome: the token was used.
local state = redis.call('GET', KEYS[1])
if state then
  if string.sub(state, 1, 1) ~= 'o' then
    return redis.error_reply('ERR ' .. KEYS[1] .. ' does not hold a recorded outcome')
  end
  local owner, fp, outcome, order_id, body, sku, available =
    cmsgpack.unpack(string.sub(state, 2))
  if owner ~= identity then
    return answer('invalid_token', '', '', '', '', 0)
  end
  if ARGV[4] == 'reject' then
    return answer('rejected', outcome, order_id, '', sku, available)
  end
  if fp ~= redis.sha1hex(ARGV[2]) then
    return answer('token_reused', '', '', '', '', 0)
  end
  return answer('replayed', outcome, order_id, body, sku, available)
end

-- The windows were named by the caller's clock: one too far from Redis's
-- would look in the wrong ones and answer invalid_token for live tokens.
-- Say so instead (an error reply: 500, and the caller logs it).
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if math.abs(tonumber(now[1]) - tonumber(ARGV[9])) > tonumber(ARGV[10]) then
  return redis.error_reply('ERR clock skew: this host says ' .. ARGV[9] .. ', Redis says ' ..
                           now[1] .. ' (more than ' .. ARGV[10] .. ' s apart); fix NTP')
end

-- 2. Unused: "<expiry ms>" or "<expiry ms>:<identity>" in its window's
-- hash (issue_token.lua). An expired entry waits there for its window's
-- hash to expire, and counts as gone.
local window, pending
for i = 1, w do
  pending = redis.call('HGET', KEYS[4 + i], field)
  if pending then
    window = KEYS[4 + i]
    break
  end
end
if not pending then
  return answer('invalid_token', '', '', '', '', 0)
end
local colon = string.find(pending, ':', 1, true)
local expires_ms = tonumber(colon and string.sub(pending, 1, colon - 1) or pending)
local owner = colon and string.sub(pending, colon + 1) or ''
if not expires_ms or now_ms >= expires_ms or owner ~= identity then
  return answer('invalid_token', '', '', '', '', 0)
end

-- Moves the token from its window to its own key, holding the outcome. SET
-- comes first: Redis over maxmemory refuses it (a script without flags is
-- refused at its first such write) before the token leaves its window.
local function record(outcome, order_id, body, sku, available)
  local packed = cmsgpack.pack(identity, redis.sha1hex(ARGV[2]), outcome,
                               order_id, body, sku, available)
  redis.call('SET', KEYS[1], 'o' .. packed, 'EX', ARGV[3])
  redis.call('HDEL', window, field)
  return answer(outcome, outcome, order_id, '', sku, available)
end

-- 3. Stock of every line, then the quantities.
local stock = {}
for i = 1, n do
  local have = redis.call('GET', KEYS[4 + w + i])
  if not have then
    return record('unknown_sku', '', '', ARGV[10 + n + i], 0)
  end
  stock[i] = stock_value(have)
  if not stock[i] then
    return redis.error_reply('ERR stock of ' .. ARGV[10 + n + i] .. ' is not an integer')
  end
end
for i = 1, n do
  if stock[i] < tonumber(ARGV[10 + i]) then
    return record('out_of_stock', '', '', ARGV[10 + n + i], stock[i])
  end
end

-- 4. The writes, which must not fail halfway. XADD goes first: a foreign
-- key where the stream belongs (a key_prefix shared with another
-- application) fails it with WRONGTYPE before anything is written, and so
-- does a Redis over maxmemory. (The order key is named by a fresh UUID.)
redis.call('XADD', KEYS[3], '*', 'order_id', ARGV[5], 'order', ARGV[6])
for i = 1, n do
  redis.call('DECRBY', KEYS[4 + w + i], ARGV[10 + i])
end
redis.call('HSET', KEYS[2], 'order', ARGV[6], 'owner', identity)
return record('created', ARGV[5], ARGV[6], '', 0)
