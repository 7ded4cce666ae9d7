-- submit_order: the atomic step. Checks the key (a token we issued or,
-- under keys = client, one the client made), compares the payload with any
-- earlier outcome, checks and reserves stock for every line (all or
-- nothing), applies submit_rate to first uses, stores the order, appends
-- it to the stream, records the outcome under the key and bumps the
-- counters, in one call.
--
-- Its keys and arguments are named once, in the block below, in the order
-- src/store.c appends them: 7 keys, the w window hashes, the n stock keys;
-- 13 arguments, then the n quantities and the n SKUs.
--
-- Returns {result, outcome, order_id, body, sku, available}, where result is
-- created | replayed | rejected | token_reused | invalid_token | unknown_sku
-- | out_of_stock | rate_limited | in_progress (the metric labels) and outcome is the
-- recorded first outcome (created | unknown_sku | out_of_stock) or ''. The
-- body of an order created now is not sent back: the caller has it (with
-- the random id; order_id says which id was used). For rate_limited,
-- available is the seconds left in the client's window.
--
-- The order's id: for a token we issued, the one the caller derived from
-- the identity and the token, so an order that a failover lost and the
-- client's retry makes again keeps its id (a drain that had stored it adds
-- nothing); for a key the client made (it may come again once expired), a
-- random one. An existing order is never overwritten.
--
-- Everything that can fail is checked before the first write: Redis does
-- not roll a script back.

-- The arguments, named once. A call that does not match is refused
-- before anything is read or written.
local w = tonumber(ARGV[7])
local n = (#ARGV - 13) / 2
if #ARGV < 15 or #ARGV % 2 ~= 1 or not w or w < 0 or #KEYS ~= 7 + w + n then
  return redis.error_reply('ERR submit_order: expected 7 + w + n keys and 13 + 2n arguments ' ..
                           '(n >= 1 lines, w >= 0 windows); got ' .. #KEYS .. ' keys and ' ..
                           #ARGV .. ' arguments')
end
local outcome_key = KEYS[1]     -- the key's recorded outcome, once used: a
                                -- token's, or a client key's
local client_outcome_key = KEYS[2] -- under keys = client, where a token-shaped
                                -- key that we never issued records its
                                -- outcome; else the same as outcome_key
local order_key = KEYS[3]       -- the new order (hash), under the random id
local stream_key = KEYS[4]      -- the orders stream
local metrics_key = KEYS[5]     -- the counters (hash)
local submit_rate_key = KEYS[6] -- the client's first submissions this minute
local issued_order_key = KEYS[7] -- the new order under the id derived from the
                                -- token (the same as order_key when none)
local function window_key(i)    -- the hashes of unused tokens of every issue
  return KEYS[7 + i]            -- window it can be in, the likeliest first
end
local function stock_key(i)     -- the stock of line i, in request order
  return KEYS[7 + w + i]
end
local identity = ARGV[1]        -- the caller's identity ('' when unbound)
local canonical = ARGV[2]       -- the canonical order (fingerprint input)
local result_ttl = ARGV[3]      -- how long the outcome is kept (s)
local duplicate_mode = ARGV[4]  -- 'replay' or 'reject'
local new_order_id = ARGV[5]    -- the random id and the JSON of the order if
local new_order_json = ARGV[6]  -- created (the JSON starts {"order_id":"<id>")
-- ARGV[7] is w
local field = ARGV[8]           -- the token's field in its window hash; ''
                                -- for a key that cannot be a token
local caller_now = ARGV[9]      -- the caller's clock (unix s)
local max_skew = ARGV[10]       -- how far it may be from Redis's (s)
local client_keys = ARGV[11]    -- '1': keys = client (keys never issued are
                                -- taken on first use)
local submit_rate = tonumber(ARGV[12]) -- first uses per client per 60 s (0: no limit)
local issued_order_id = ARGV[13] -- the id derived from the token; '' for a key
                                -- that cannot be a token
local function line_qty(i)
  return ARGV[13 + i]
end
local function line_sku(i)
  return ARGV[13 + n + i]
end

-- A refused submission is counted apart from token_rate's 'rate_limited'.
local function count(result)
  bump(metrics_key, result == 'rate_limited' and 'submit_rate_limited' or result)
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

-- 1. A recorded outcome: the key was used.
local state, state_key = find_record(outcome_key, client_outcome_key)
if state and string.sub(state, 1, 1) == 'g' then
  -- Held or used at the gate (gate.lua) to let another request through:
  -- never an order's key too, whatever duplicate_mode says. A hold may
  -- still go (its request was answered 503): retry later, as the IETF
  -- draft answers a request whose key is in use.
  local owner, _, _, held = cmsgpack.unpack(string.sub(state, 2))
  if owner ~= identity then
    return answer('invalid_token', '', '', '', '', 0)
  end
  return answer(held == 'held' and 'in_progress' or 'token_reused', '', '', '', '', 0)
end
if state then
  if string.sub(state, 1, 1) ~= 'o' then
    return redis.error_reply('ERR ' .. state_key .. ' does not hold a recorded outcome')
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
  rewrite_same(state_key, state)
  return answer('replayed', outcome, order_id, body, sku, available)
end

local now_s, now_ms = redis_now()
local skew = clock_skew_error(now_s, caller_now, max_skew)
if skew then
  return skew
end

-- 2. Unused: an issued token in its window's hash, or under keys = client
-- a key we never issued (its outcome goes under client_outcome_key).
local window, pending
local record_key = outcome_key
if field ~= '' then
  window, pending = find_unused(window_key, w, field)
end
if pending then
  if not unused_is_valid(pending, now_ms, identity) then
    return answer('invalid_token', '', '', '', '', 0)
  end
elseif client_keys == '1' then
  record_key = client_outcome_key
else
  return answer('invalid_token', '', '', '', '', 0)
end

-- The order's id and hash: derived for a token we issued, else random.
local order_id, order_hash = new_order_id, order_key
if pending and issued_order_id ~= '' then
  order_id, order_hash = issued_order_id, issued_order_key
end

-- 3. Stock of every line, then the quantities: the verdict, nothing
-- written yet.
local verdict, verdict_sku, verdict_available = 'created', '', 0
local stock = {}
for i = 1, n do
  local have = redis.call('GET', stock_key(i))
  if not have then
    verdict, verdict_sku = 'unknown_sku', line_sku(i)
    break
  end
  stock[i] = stock_value(have)
  if not stock[i] then
    return redis.error_reply('ERR stock of ' .. line_sku(i) .. ' is not an integer')
  end
end
if verdict == 'created' then
  -- Never over an existing order: its token was used, so finding one here
  -- means the keyspace holds what our scripts never write together.
  if redis.call('EXISTS', order_hash) == 1 then
    return redis.error_reply('ERR ' .. order_hash .. ' exists already; an order is never ' ..
                             'overwritten')
  end
  if string.sub(new_order_json, 1, 13) ~= '{"order_id":"' then
    return redis.error_reply('ERR submit_order: the order JSON must start with its order_id')
  end
  for i = 1, n do
    if stock[i] < tonumber(line_qty(i)) then
      verdict, verdict_sku, verdict_available = 'out_of_stock', line_sku(i), stock[i]
      break
    end
  end
end

-- 4. submit_rate, on first uses only (a replay answered above costs
-- nothing, and neither does a refused attempt). The counter is the first
-- write, so what would fail a later write is checked before it: a foreign
-- key where the stream belongs (XADD). Under maxmemory Redis refuses the
-- INCR before anything else changes. A refused submission leaves the key
-- unused.
if submit_rate > 0 then
  local retry_after = first_uses_exceeded(submit_rate_key, submit_rate)
  if retry_after then
    return answer('rate_limited', '', '', '', '', retry_after)
  end
  if verdict == 'created' then
    local stream_type = redis.call('TYPE', stream_key)['ok']
    if stream_type ~= 'stream' and stream_type ~= 'none' then
      return redis.error_reply('WRONGTYPE ' .. stream_key .. ' is a ' .. stream_type ..
                               ', not the orders stream')
    end
  end
  first_uses_spend(submit_rate_key)
end

-- Records the outcome under the key; an issued token leaves its window.
local function record(outcome, order_id, body, sku, available)
  local packed = cmsgpack.pack(identity, redis.sha1hex(canonical), outcome,
                               order_id, body, sku, available)
  redis.call('SET', record_key, 'o' .. packed, 'EX', result_ttl)
  if window then
    redis.call('HDEL', window, field)
  end
  return answer(outcome, outcome, order_id, '', sku, available)
end

if verdict ~= 'created' then
  return record(verdict, '', '', verdict_sku, verdict_available)
end

-- 5. The writes, which must not fail halfway. XADD goes first: a foreign
-- key where the stream belongs (a key_prefix shared with another
-- application) fails it with WRONGTYPE before anything is written, and so
-- does a Redis over maxmemory (when submit_rate is 0). (The order's hash
-- was checked above not to exist.)
local order_json = '{"order_id":"' .. order_id .. string.sub(new_order_json, 14 + #new_order_id)
redis.call('XADD', stream_key, '*', 'order_id', order_id, 'order', order_json)
for i = 1, n do
  redis.call('DECRBY', stock_key(i), line_qty(i))
end
redis.call('HSET', order_hash, 'order', order_json, 'owner', identity)
return record('created', order_id, order_json, '', 0)
