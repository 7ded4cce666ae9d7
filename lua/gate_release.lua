-- gate_release: gives back a grant whose caller answered 503 without
-- knowing whether gate.lua had run (the reply was lost or late). The key
-- becomes usable again, as the client was told: an issued token returns
-- to its window's hash (made again with its expiry if it went with its
-- last field; not at all once the token has expired), a client's key
-- loses its record. Only a record that this
-- grant wrote is touched. The grant is marked released either way, so a
-- gate.lua call still on its way (Redis was stalled) does nothing.
--
-- 4 keys: the two records gate.lua may have written (outcome_key,
-- client_outcome_key, as it names them), the released mark, the counters
-- (a grant given back was counted allowed; it no longer is); 2 arguments:
-- the grant, how long the mark is kept (s). Returns 1 when a record was
-- given back, else 0.

if #KEYS ~= 4 or #ARGV ~= 2 then
  return redis.error_reply('ERR gate_release: expected 4 keys and 2 arguments; got ' .. #KEYS ..
                           ' keys and ' .. #ARGV .. ' arguments')
end
local outcome_key = KEYS[1]
local client_outcome_key = KEYS[2]
local released_key = KEYS[3]
local metrics_key = KEYS[4]
local grant = ARGV[1]
local mark_ttl = ARGV[2]

redis.call('SET', released_key, '1', 'EX', mark_ttl)
for _, key in ipairs({outcome_key, client_outcome_key}) do
  local state = redis.call('GET', key)
  if state and string.sub(state, 1, 1) == 'g' then
    local _, _, used_by, window, field, unused, window_expireat =
      cmsgpack.unpack(string.sub(state, 2))
    if used_by == grant then
      local _, now_ms = redis_now()
      local expires_ms = tonumber(string.match(unused, '^%d+') or '')
      if window ~= '' and expires_ms and now_ms < expires_ms then
        redis.call('HSET', window, field, unused)
        if redis.call('PTTL', window) < 0 then
          redis.call('EXPIREAT', window, window_expireat)
        end
      end
      redis.call('DEL', key)
      redis.pcall('HINCRBY', metrics_key, 'gate_allowed', -1) -- counted when granted
      return 1
    end
  end
end
return 0
