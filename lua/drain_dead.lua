-- drain_dead: an entry the drain cannot turn into an order, or an order the
-- database refuses, goes to the dead-letter stream with the reason and is
-- acknowledged, in one step (a crash between the two would copy it twice).
-- Only while it is pending: a drain that sends it again (its batch failed
-- after the dead letter went) adds nothing. XADD comes before XACK: when
-- Redis refuses the XADD (out of memory), the entry stays pending.
--
-- KEYS[1] orders stream     KEYS[2] dead-letter stream
-- ARGV[1] the drain's group ARGV[2] the entry's id   ARGV[3] the reason
-- ARGV[4 ..] the entry's fields and values
--
-- Returns the id of the dead letter, or nil when the entry was not pending.

if #redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1) == 0 then
	return false
end
local id = redis.call('XADD', KEYS[2], '*', 'source_id', ARGV[2], 'reason', ARGV[3],
                      unpack(ARGV, 4))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return id
