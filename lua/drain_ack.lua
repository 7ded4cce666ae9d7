-- drain_ack: what the drain does once a batch is committed in the database,
-- in one step: each order's hash gets its TTL (GET /orders/{id} answers
-- from Redis for that long; the database keeps the order for good), the
-- entries are acknowledged, and the stream is trimmed below the oldest
-- entry that any consumer group still needs.
--
-- KEYS[1] orders stream     KEYS[2 ..] the hashes of the batch's orders
-- ARGV[1] the drain's group ARGV[2] order TTL (s)
-- ARGV[3 ..] the entries' stream ids (orders and entries already gone)
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

local stream = KEYS[1]
for i = 2, #KEYS do
  redis.call('EXPIRE', KEYS[i], ARGV[2])
end
local acked = 0
if #ARGV > 2 then
  acked = redis.call('XACK', stream, ARGV[1], unpack(ARGV, 3))
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
