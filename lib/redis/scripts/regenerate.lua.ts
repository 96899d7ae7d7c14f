/**
 * Moves a session to a new id (against session fixation): data, expiry and owner kept, the old
 * id gone in the same step, and every node told to drop it. Both keys share a hash slot.
 * Field `o` keeps the id the session was created under: encrypted values are bound to it, so
 * they need no re-encryption here (the script cannot decrypt them).
 *
 * KEYS[1] old key, KEYS[2] new key. ARGV: publish header (1..6), old id.
 * Returns { 0 } when the old session is absent, { -1 } when the new id is taken (both publish
 * 'n'), else { HGETALL, PTTL, Redis time } of the new session, as READ does, and publishes 'd'.
 */
export const REGENERATE = `
local old, new = KEYS[1], KEYS[2]
local old_id = ARGV[PUB + 1]
if redis.call('EXISTS', old) == 0 or redis.call('EXISTS', new) == 1 then
  publish('n', '', 0)
  return { redis.call('EXISTS', old) == 0 and 0 or -1 }
end
local now = now_ms()
redis.call('RENAME', old, new)
redis.call('HINCRBY', new, 'v', 1)
redis.call('HSET', new, 'touched', now)
if redis.call('HEXISTS', new, 'o') == 0 then redis.call('HSET', new, 'o', old_id) end
publish('d', old_id, 0)
return { redis.call('HGETALL', new), redis.call('PTTL', new), now }
`;
