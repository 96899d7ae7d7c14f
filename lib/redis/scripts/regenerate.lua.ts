/**
 * Moves a session to a new id (against session fixation): data, expiry and owner kept, the old
 * id gone in the same step, and every node told to drop it.
 *
 * KEYS[1] old key, KEYS[2] new key. ARGV: publish header (1..6), key prefix, old id, new id.
 * Returns { 0 } when the old session is absent, { -1 } when the new id is taken (both publish
 * 'n'), else { HGETALL, PTTL, Redis time } of the new session, as READ does, and publishes 'd'.
 */
export const REGENERATE = `
local old, new = KEYS[1], KEYS[2]
local prefix, old_id, new_id = ARGV[PUB + 1], ARGV[PUB + 2], ARGV[PUB + 3]
if redis.call('EXISTS', old) == 0 or redis.call('EXISTS', new) == 1 then
  publish('n', '', 0)
  return { redis.call('EXISTS', old) == 0 and 0 or -1 }
end
local now = now_ms()
redis.call('RENAME', old, new)
redis.call('HINCRBY', new, 'v', 1)
redis.call('HSET', new, 'touched', now)
local ttl = redis.call('PTTL', new)
local owner = redis.call('HGET', new, 'user')
if owner then
  redis.call('ZREM', index_key(prefix, owner), old_id)
  index_add(prefix, owner, new_id, now, ttl)
end
publish('d', old_id, 0)
return { redis.call('HGETALL', new), ttl, now }
`;
