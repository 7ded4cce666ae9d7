-- drain_dead: an entry the drain cannot turn into an order goes to the
-- dead-letter stream, with the reason, and is acknowledged, in one step (a
-- crash between the two would copy it twice).
--
-- KEYS[1] orders stream     KEYS[2] dead-letter stream
-- ARGV[1] the drain's group ARGV[2] the entry's id   ARGV[3] the reason
-- ARGV[4 ..] the entry's fields and values, as read
--
-- Returns the id of the dead letter.

local id = redis.call('XADD', KEYS[2], '*', 'source_id', ARGV[2], 'reason', ARGV[3],
                      unpack(ARGV, 4))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return id
