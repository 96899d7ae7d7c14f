/**
 * Moves a session to a new id (against session fixation): data, expiry and owner kept, the old
 * id gone in the same step, and every node told to drop it. Both keys share a hash slot.
 * With encryption, field `o` names the id the session was created under (values are bound to
 * it, so they need no re-encryption here: the script cannot decrypt them), with a MAC tying it
 * to the new id, computed by the node.
 *
 * KEYS[1] old key, KEYS[2] new key. ARGV: publish header (1..3: the message destroys the old
 * id), operation (4..5), the owner the node read before ('' for none: it indexed the new id
 * under that owner first), the new `o` ('' to leave it).
 * Returns { 0 } when the old session is absent, { -1 } when the new id is taken, { -2 } when
 * the owner changed since the node read it (the node indexes the new owner and tries again; all
 * three publish the no-op), else { HGETALL, PTTL, Redis time } of the new session, as a read
 * does, and publishes the message (or nothing, when an earlier run of this operation moved it).
 */
export const REGENERATE = `
-- whether this operation made any of the versions field w remembers
local function made_any(ops)
  ops = ops or ''
  for back = 0, #ops / OP_WIDTH - 1 do
    if made(ops, back) then return true end
  end
  return false
end

local old, new = KEYS[1], KEYS[2]
local owner, origin = ARGV[PUB + 1], ARGV[PUB + 2]
if redis.call('EXISTS', new) == 1 and made_any(redis.call('HGET', new, 'w')) then
  return { redis.call('HGETALL', new), redis.call('PTTL', new), now_ms() }
end
if redis.call('EXISTS', old) == 0 or redis.call('EXISTS', new) == 1 then
  publish(false)
  return { redis.call('EXISTS', old) == 0 and 0 or -1 }
end
if (redis.call('HGET', old, 'user') or '') ~= owner then
  publish(false)
  return { -2 }
end
local now = now_ms()
redis.call('RENAME', old, new)
redis.call('HINCRBY', new, 'v', 1)
redis.call('HSET', new, 'touched', now, 'w', with_op(redis.call('HGET', new, 'w')))
if origin ~= '' then redis.call('HSET', new, 'o', origin) end
publish(true)
return { redis.call('HGETALL', new), redis.call('PTTL', new), now }
`;
