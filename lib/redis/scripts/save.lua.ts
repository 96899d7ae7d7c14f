/**
 * Delta save, and create-if-absent. One script, so the write and its broadcast are atomic and
 * cost one round trip.
 *
 * An update is applied only onto the version the node read (`base`): the message the node
 * signed says "this change turns version base into base + 1", which is what lets other nodes
 * apply it to their copies of version base. When another write came in between, nothing is
 * written and the node sends the same change again onto the version it is told (G6 holds: a
 * delta touches only the keys the request changed, whichever version it lands on).
 *
 * KEYS[1] session key.
 * ARGV: publish header (1..3), then mode ('create' | 'update'), idle ms, absolute ms, base
 *       version (update), user op ('' unchanged | 'clear' | 'set'), user id, the session's own
 *       cookie lifetime ('' unchanged | '-' none | ms: field `m`, the idle timeout instead of idle
 *       ms), number of changed fields N, N field/value pairs, then the removed fields. (The
 *       user's index is kept by the caller: it lives in another slot.)
 * Returns { version, remaining ttl ms, createdAt, Redis time, stored cookie lifetime (0: none),
 *         absolute deadline } and publishes the message, or publishes the no-op and returns
 *         { 0 } when an update finds no session: a save never resurrects a destroyed one (G5),
 *         { -1 } when a create finds the id taken,
 *         { -2, version, stored cookie lifetime (0: none) } when an update finds another
 *         version than its base.
 */
export const SAVE = `
local key, mode = KEYS[1], ARGV[PUB + 1]
local idle_text, absolute = ARGV[PUB + 2], tonumber(ARGV[PUB + 3])
local base, user_op, user, max_age = ARGV[PUB + 4], ARGV[PUB + 5], ARGV[PUB + 6], ARGV[PUB + 7]
local first_pair = PUB + 9
local first_removed = first_pair + 2 * tonumber(ARGV[PUB + 8])
local now = now_ms()

-- one read for everything the script needs; a session without a version, or without a readable
-- creation time, does not exist
local meta = redis.call('HMGET', key, 'v', 'created', 'expires', 'm')
local version, created, expires = tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3])
-- the idle timeout: the session's own cookie lifetime (set now, or stored), else the store's
if max_age == '' then
  if tonumber(meta[4]) then idle_text = meta[4] end
elseif max_age ~= '-' then
  idle_text = max_age
end
local idle = tonumber(idle_text)
-- PEXPIRE gets the text as it is only in canonical form (a stored value may be "060000" or "6e4")
if #idle_text > 15 or not string.find(idle_text, '^[1-9]%d*$') then idle_text = nil end
if mode == 'create' then
  if version or redis.call('EXISTS', key) == 1 then
    publish(false)
    return { -1 }
  end
  version, created, expires = 0, now, now + absolute
elseif not version or not created then
  publish(false)
  return { 0 }
elseif meta[1] ~= base then
  publish(false)
  return { -2, meta[1], meta[4] or '0' }
end

local ttl = math.min(idle, (expires or 0) - now)
-- past its absolute deadline: no node serves a copy any more (G7), so only the sequence goes on
if ttl <= 0 then
  redis.call('DEL', key)
  publish(false)
  return { 0 }
end

local v = string.format('%d', version + 1)
-- one HSET and at most one HDEL for a save of up to 128 changed and 256 removed keys (each call
-- costs Redis time of its own); more go in slices, as unpack() fails beyond 8,000 values. An
-- update leaves \`created\` and \`expires\` as they are.
local set = { 'v', v, 'touched', now_text() }
if mode == 'create' then
  set[5], set[6], set[7], set[8] = 'created', now_text(), 'expires', string.format('%d', expires)
end
local unset = {}
if user_op == 'set' then set[#set + 1] = 'user'; set[#set + 1] = user end
if user_op == 'clear' then unset[1] = 'user' end
if max_age == '-' then unset[#unset + 1] = 'm' elseif max_age ~= '' then set[#set + 1] = 'm'; set[#set + 1] = max_age end
if first_removed - first_pair <= 256 then
  for i = first_pair, first_removed - 1 do set[#set + 1] = ARGV[i] end
else
  call_argv('HSET', key, first_pair, first_removed - 1) -- pairs: slices keep an even length
end
redis.call('HSET', key, unpack(set))
if #ARGV - first_removed < 256 then
  for i = first_removed, #ARGV do unset[#unset + 1] = ARGV[i] end
else
  call_argv('HDEL', key, first_removed, #ARGV)
end
if #unset > 0 then redis.call('HDEL', key, unpack(unset)) end

-- the idle timeout as it came, unless the absolute deadline is nearer
redis.call('PEXPIRE', key, ttl == idle and idle_text or ttl)
-- (a create's message is a no-op: no node can hold a copy of a brand-new session)
publish(true)
-- the cookie lifetime now stored (a concurrent request may have set it): the cookie follows it
local stored_max_age = tonumber(meta[4])
if max_age == '-' then stored_max_age = nil elseif max_age ~= '' then stored_max_age = tonumber(max_age) end
return { v, ttl, created, now, stored_max_age or 0, expires }
`;
