/**
 * Delta save, and create-if-absent. One script, so the write and its broadcast are atomic and
 * cost one round trip.
 *
 * KEYS[1] session key.
 * ARGV: publish header (1..6), then mode ('create' | 'update'), idle ms, absolute ms, id,
 *       user op ('' unchanged | 'clear' | 'set'), user id, the session's own cookie lifetime
 *       ('' unchanged | '-' none | ms: field `m`, the idle timeout instead of idle ms), number of
 *       changed fields N, N field/value pairs, then the removed fields. (The user's index is
 *       kept by the caller: it lives in another slot.)
 * Returns { version, remaining ttl ms, createdAt, Redis time, stored cookie lifetime (0: none) }
 *         and publishes 'i' ('n' for a create), or
 *         { 0 } when an update finds no session: a save never resurrects a destroyed one (G5),
 *         { -1 } when a create finds the id taken; both publish 'n'.
 */
export const SAVE = `
local key, mode = KEYS[1], ARGV[PUB + 1]
local idle, absolute = tonumber(ARGV[PUB + 2]), tonumber(ARGV[PUB + 3])
local id, user_op, user, max_age = ARGV[PUB + 4], ARGV[PUB + 5], ARGV[PUB + 6], ARGV[PUB + 7]
local first_pair = PUB + 9
local first_removed = first_pair + 2 * tonumber(ARGV[PUB + 8])
local now = now_ms()

-- one read for everything the script needs; a session without a version does not exist
local meta = redis.call('HMGET', key, 'v', 'created', 'expires', 'm')
local version, created, expires = tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3])
if max_age == '' then idle = tonumber(meta[4]) or idle elseif max_age ~= '-' then idle = tonumber(max_age) end
if mode == 'create' then
  if version or redis.call('EXISTS', key) == 1 then
    publish('n', '', 0)
    return { -1 }
  end
  version, created, expires = 0, now, now + absolute
elseif not version then
  publish('n', '', 0)
  return { 0 }
end

local ttl = math.min(idle, (expires or 0) - now)
if ttl <= 0 then
  redis.call('DEL', key)
  publish('d', id, 0)
  return { 0 }
end

version = version + 1
redis.call('HSET', key, 'v', version, 'created', created, 'expires', expires, 'touched', now)
call_argv('HSET', key, first_pair, first_removed - 1) -- pairs: slices keep an even length
call_argv('HDEL', key, first_removed, #ARGV)

if user_op == 'clear' then redis.call('HDEL', key, 'user') end
if user_op == 'set' then redis.call('HSET', key, 'user', user) end
if max_age == '-' then redis.call('HDEL', key, 'm') elseif max_age ~= '' then redis.call('HSET', key, 'm', max_age) end

redis.call('PEXPIRE', key, ttl)
-- no node can hold a copy of a brand-new session: a create only keeps the sequence going
if mode == 'create' then publish('n', '', 0) else publish('i', id, version) end
-- the cookie lifetime now stored (a concurrent request may have set it): the cookie follows it
return { version, ttl, created, now, tonumber(redis.call('HGET', key, 'm')) or 0 }
`;
