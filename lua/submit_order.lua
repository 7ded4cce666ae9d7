-- submit_order: the atomic step. Checks the token, compares the payload
-- with any earlier outcome, checks and reserves stock for every line (all
-- or nothing), stores the order, appends it to the stream, records the
-- outcome under the token and bumps the counters, in one call.
--
-- Its keys and arguments are named once, in the block below, in the order
-- src/store.c appends them: 4 keys, the w window hashes, the n stock keys;
-- 10 arguments, then the n quantities and the n SKUs.
--
-- Returns {result, outcome, order_id, body, sku, available}, where result is
-- created | replayed | rejected | token_reused | invalid_token | unknown_sku
-- | out_of_stock (the metric labels) and outcome is the recorded first
-- outcome (created | unknown_sku | out_of_stock) or ''. The body of an
-- order created now is not sent back: the caller has it.
--
-- Everything that can fail is checked before the first write: Redis does
-- not roll a script back.

-- The arguments, named once. A call that does not match is refused
-- before anything is read or written.
local w = tonumber(ARGV[7])
local n = (#ARGV - 10) / 2
if #ARGV < 12 or #ARGV % 2 ~= 0 or not w or w < 1 or #KEYS ~= 4 + w + n then
  return redis.error_reply('ERR submit_order: expected 4 + w + n keys and 10 + 2n arguments ' ..
                           '(n >= 1 lines, w >= 1 windows); got ' .. #KEYS .. ' keys and ' ..
                           #ARGV .. ' arguments')
end
local outcome_key = KEYS[1]     -- the token's recorded outcome, once used
local order_key = KEYS[2]       -- the new order (hash)
local stream_key = KEYS[3]      -- the orders stream
local metrics_key = KEYS[4]     -- the counters (hash)
local function window_key(i)    -- the hashes of unused tokens of every issue
  return KEYS[4 + i]            -- window it can be in, the likeliest first
end
local function stock_key(i)     -- the stock of line i, in request order
  return KEYS[4 + w + i]
end
local identity = ARGV[1]        -- the caller's identity ('' when unbound)
local canonical = ARGV[2]       -- the canonical order (fingerprint input)
local result_ttl = ARGV[3]      -- how long the outcome is kept (s)
local duplicate_mode = ARGV[4]  -- 'replay' or 'reject'
local new_order_id = ARGV[5]    -- the id and JSON of the order if created
local new_order_json = ARGV[6]
-- ARGV[7] is w
local field = ARGV[8]           -- the token's field in its window hash
local caller_now = ARGV[9]      -- the caller's clock (unix s)
local max_skew = ARGV[10]       -- how far it may be from Redis's (s)
local function line_qty(i)
  return ARGV[10 + i]
end
local function line_sku(i)
  return ARGV[10 + n + i]
end

-- Counters must never cost an answer: under maxmemory (noeviction) Redis
-- refuses HINCRBY, and a replay is exactly what a client needs then.
local function count(result)
  redis.pcall('HINCRBY', metrics_key, result, 1)
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
local state = redis.call('GET', outcome_key)
if state then
  if string.sub(state, 1, 1) ~= 'o' then
    return redis.error_reply('ERR ' .. outcome_key .. ' does not hold a recorded outcome')
  end
  local owner, fp, outcome, order_id, body, sku, available =
    cmsgpack.unpack(string.sub(state, 2))
  if owner ~= identity then
    return answer('invalid_token', '', '', '', '', 0)
  end
  if duplicate_mode == 'reject' then
    return answer('rejected', outcome, order_id, '', sku, available)
  end
  if fp ~= redis.sha1hex(canonical) then
    return answer('token_reused', '', '', '', '', 0)
  end
  return answer('replayed', outcome, order_id, body, sku, available)
end

-- The windows were named by the caller's clock: one too far from Redis's
-- would look in the wrong ones and answer invalid_token for live tokens.
-- Say so instead (an error reply: 500, and the caller logs it).
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if math.abs(tonumber(now[1]) - tonumber(caller_now)) > tonumber(max_skew) then
  return redis.error_reply('ERR clock skew: this host says ' .. caller_now .. ', Redis says ' ..
                           now[1] .. ' (more than ' .. max_skew .. ' s apart); fix NTP')
end

-- 2. Unused: "<expiry ms>" or "<expiry ms>:<identity>" in its window's
-- hash (issue_token.lua). An expired entry waits there for its window's
-- hash to expire, and counts as gone.
local window, pending
for i = 1, w do
  pending = redis.call('HGET', window_key(i), field)
  if pending then
    window = window_key(i)
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
  local packed = cmsgpack.pack(identity, redis.sha1hex(canonical), outcome,
                               order_id, body, sku, available)
  redis.call('SET', outcome_key, 'o' .. packed, 'EX', result_ttl)
  redis.call('HDEL', window, field)
  return answer(outcome, outcome, order_id, '', sku, available)
end

-- 3. Stock of every line, then the quantities.
local stock = {}
for i = 1, n do
  local have = redis.call('GET', stock_key(i))
  if not have then
    return record('unknown_sku', '', '', line_sku(i), 0)
  end
  stock[i] = stock_value(have)
  if not stock[i] then
    return redis.error_reply('ERR stock of ' .. line_sku(i) .. ' is not an integer')
  end
end
for i = 1, n do
  if stock[i] < tonumber(line_qty(i)) then
    return record('out_of_stock', '', '', line_sku(i), stock[i])
  end
end

-- 4. The writes, which must not fail halfway. XADD goes first: a foreign
-- key where the stream belongs (a key_prefix shared with another
-- application) fails it with WRONGTYPE before anything is written, and so
-- does a Redis over maxmemory. (The order key is named by a fresh UUID.)
redis.call('XADD', stream_key, '*', 'order_id', new_order_id, 'order', new_order_json)
for i = 1, n do
  redis.call('DECRBY', stock_key(i), line_qty(i))
end
redis.call('HSET', order_key, 'order', new_order_json, 'owner', identity)
return record('created', new_order_id, new_order_json, '', 0)
