/**
 * Delta save, and create-if-absent. One script, so the write is atomic and costs one round trip.
 *
 * KEYS[1] session key.
 * ARGV: mode ('create' | 'update'), idle ms, absolute ms, key prefix, id,
 *       user op ('' unchanged | 'clear' | 'set'), user id, number of changed fields N,
 *       N field/value pairs, then the removed fields.
 * Returns { version, remaining ttl ms, createdAt, Redis time } or
 *         { 0 } when an update finds no session: a save never resurrects a destroyed one (G5),
 *         { -1 } when a create finds the id taken.
 */
export const SAVE = `
local key, mode = KEYS[1], ARGV[1]
local idle, absolute = tonumber(ARGV[2]), tonumber(ARGV[3])
local prefix, id, user_op, user = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local changed = tonumber(ARGV[8])
local now = now_ms()

-- one read for everything the script needs; a session without a version does not exist
local meta = redis.call('HMGET', key, 'v', 'created', 'expires', 'user')
local version, created, expires, owner = tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3]), meta[4]
if mode == 'create' then
  if version or redis.call('EXISTS', key) == 1 then return { -1 } end
  version, created, expires, owner = 0, now, now + absolute, false
elseif not version then
  return { 0 }
end

local ttl = math.min(idle, (expires or 0) - now)
if ttl <= 0 then
  redis.call('DEL', key)
  return { 0 }
end

version = version + 1
local first_removed = 9 + 2 * changed
redis.call('HSET', key, 'v', version, 'created', created, 'expires', expires, 'touched', now)
call_argv('HSET', key, 9, first_removed - 1) -- field/value pairs: slices start at odd indexes
call_argv('HDEL', key, first_removed, #ARGV)

if owner and (user_op == 'clear' or (user_op == 'set' and owner ~= user)) then
  redis.call('ZREM', index_key(prefix, owner), id)
  redis.call('HDEL', key, 'user')
  owner = false
end
if user_op == 'set' then
  redis.call('HSET', key, 'user', user)
  owner = user
end

redis.call('PEXPIRE', key, ttl)
if owner then index_add(prefix, owner, id, now, ttl) end
return { version, ttl, created, now }
`;
