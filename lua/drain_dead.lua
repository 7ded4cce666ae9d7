-- drain_dead: an entry the drain cannot turn into an order, or an order the
-- database refuses, goes to the dead-letter stream with the reason and is
-- acknowledged, in one step (a crash between the two would copy it twice).
-- Only while it is pending: a drain that sends it again (its batch failed
-- after the dead letter went) adds nothing. XADD comes before XACK: when
-- Redis refuses the XADD (out of memory), the entry stays pending.
--
-- Its keys and arguments are named once, in the block below, in the order
-- src/drain.c appends them.
--
-- Returns the id of the dead letter, or nil when the entry was not pending.

-- The arguments, named once. A call that does not match is refused.
if #KEYS ~= 2 or #ARGV < 3 or (#ARGV - 3) % 2 ~= 0 then
  return redis.error_reply('ERR drain_dead: expected 2 keys and 3 + 2n arguments; got ' ..
                           #KEYS .. ' keys and ' .. #ARGV .. ' arguments')
end
local stream_key = KEYS[1]      -- the orders stream
local dead_key = KEYS[2]        -- the dead-letter stream
local group = ARGV[1]           -- the drain's consumer group
local entry_id = ARGV[2]        -- the entry's id in the orders stream
local reason = ARGV[3]          -- why it is a dead letter
local FIELDS_FROM = 4           -- ARGV[4 ..]: its n fields and values

if #redis.call('XPENDING', stream_key, group, entry_id, entry_id, 1) == 0 then
  return false
end
local id = redis.call('XADD', dead_key, '*', 'source_id', entry_id, 'reason', reason,
                      unpack(ARGV, FIELDS_FROM))
redis.call('XACK', stream_key, group, entry_id)
return id
