-- submit_order: the atomic step. Checks the token, compares the payload
-- with any earlier outcome, checks and reserves stock for every line (all
-- or nothing), stores the order, appends it to the stream, records the
-- outcome under the token and bumps the counters, in one call.
--
-- KEYS[1] the token        KEYS[2] the new order (hash)   KEYS[3] orders stream
-- KEYS[4] metrics hash     KEYS[5 .. 4+n] stock of each line, request order
-- ARGV[1] identity         ARGV[2] canonical order (fingerprint input)
-- ARGV[3] result TTL (s)   ARGV[4] 'replay' or 'reject'
-- ARGV[5] new order id     ARGV[6] new order JSON
-- ARGV[7 .. 6+n] qty of each line   ARGV[7+n .. 6+2n] sku of each line
--
-- Returns {result, outcome, order_id, body, sku, available}, where result is
-- created | replayed | rejected | token_reused | invalid_token | unknown_sku
-- | out_of_stock (the metric labels) and outcome is the recorded first
-- outcome (created | unknown_sku | out_of_stock) or ''.
--
-- Everything that can fail is checked before the first write: Redis does
-- not roll a script back.

local n = #KEYS - 4
local identity = ARGV[1]

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

local state = redis.call('GET', KEYS[1])
if not state then
  return answer('invalid_token', '', '', '', '', 0)
end

if string.sub(state, 1, 1) == 'o' then
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

-- Unused: '1' when bound to no one, else 't' .. identity (issue_token.lua).
local unused = identity == '' and '1' or 't' .. identity
if state ~= unused then
  return answer('invalid_token', '', '', '', '', 0)
end

-- The caller has the body of an order it created: it is recorded, not sent back.
local function record(outcome, order_id, body, sku, available)
  local packed = cmsgpack.pack(identity, redis.sha1hex(ARGV[2]), outcome,
                               order_id, body, sku, available)
  redis.call('SET', KEYS[1], 'o' .. packed, 'EX', ARGV[3])
  return answer(outcome, outcome, order_id, '', sku, available)
end

local stock = {}
for i = 1, n do
  local have = redis.call('GET', KEYS[4 + i])
  if not have then
    return record('unknown_sku', '', '', ARGV[6 + n + i], 0)
  end
  stock[i] = stock_value(have)
  if not stock[i] then
    return redis.error_reply('ERR stock of ' .. ARGV[6 + n + i] .. ' is not an integer')
  end
end
for i = 1, n do
  if stock[i] < tonumber(ARGV[6 + i]) then
    return record('out_of_stock', '', '', ARGV[6 + n + i], stock[i])
  end
end

-- The writes below must not fail halfway. XADD goes first: a foreign key
-- where the stream belongs (a key_prefix shared with another application)
-- fails it with WRONGTYPE before anything is written, and so does a Redis
-- over maxmemory (scripts without flags are refused at their first write).
-- (The order key is named by a fresh UUID.)
redis.call('XADD', KEYS[3], '*', 'order_id', ARGV[5], 'order', ARGV[6])
for i = 1, n do
  redis.call('DECRBY', KEYS[4 + i], ARGV[6 + i])
end
redis.call('HSET', KEYS[2], 'order', ARGV[6], 'owner', identity)
return record('created', ARGV[5], ARGV[6], '', 0)
