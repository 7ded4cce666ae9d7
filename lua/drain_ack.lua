-- drain_ack: what the drain does once a batch is committed in the database,
-- in one step: each order's hash gets its TTL (GET /orders/{id} answers
-- from Redis for that long; the database keeps the order for good), the
-- entries are acknowledged, and the stream is trimmed below the oldest
-- entry that any consumer group still needs.
--
-- Its keys and arguments are named once, in the block below, in the order
-- src/drain.c appends them.
--
-- Returns {acknowledged, trimmed}.
--
-- An entry is still needed by a group while it is pending there (read, not
-- acknowledged) or not yet delivered to it (after its last-delivered-id):
-- every group is counted, the shop's own consumers too, so none of them
-- loses an entry it has not read. XTRIM MINID keeps every id >= the
-- smallest such id; with nothing pending, a group's last-delivered entry
-- itself is kept (one entry; it spares us incrementing an id in Lua).
-- Done in the script so no group can move between the look and the trim.

-- The arguments, named once. A call that does not match is refused.
if #KEYS < 1 or #ARGV < 2 then
  return redis.error_reply('ERR drain_ack: expected 1 + n keys and 2 + m arguments; got ' ..
                           #KEYS .. ' keys and ' .. #ARGV .. ' arguments')
end
local stream = KEYS[1]          -- the orders stream
local ORDERS_FROM = 2           -- KEYS[2 ..]: the hashes of the batch's orders
local group = ARGV[1]           -- the drain's consumer group
local order_ttl = ARGV[2]       -- how long an order's hash stays (s)
local IDS_FROM = 3              -- ARGV[3 ..]: the entries' stream ids (orders,
                                -- and entries that are gone)

for i = ORDERS_FROM, #KEYS do
  redis.call('EXPIRE', KEYS[i], order_ttl)
end
local acked = 0
if #ARGV >= IDS_FROM then
  acked = redis.call('XACK', stream, group, unpack(ARGV, IDS_FROM))
end

-- "ms-seq" -> ms, seq (exact up to 2^53, far beyond any clock in ms)
local function split(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end

local function lower(a, b)
  if a == nil then return b end
  local ams, aseq = split(a)
  local bms, bseq = split(b)
  if bms < ams or (bms == ams and bseq < aseq) then return b end
  return a
end

-- The stream itself may be gone (a Redis restarted without persistence,
-- a FLUSHDB): nothing to trim, and XINFO would raise an error.
if redis.call('EXISTS', stream) == 0 then
  return {acked, 0}
end
local keep = nil
for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  if info['pending'] > 0 then
    local summary = redis.call('XPENDING', stream, info['name'])
    keep = lower(keep, summary[2])
  else
    keep = lower(keep, info['last-delivered-id'])
  end
end
local trimmed = 0
if keep ~= nil and keep ~= '0-0' then
  trimmed = redis.call('XTRIM', stream, 'MINID', keep)
end
return {acked, trimmed}
