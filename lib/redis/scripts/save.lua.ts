/**
 * The two writes of a session's data. Each is one script, so the write and its broadcast are
 * atomic and cost one round trip. (The user's index is kept by the caller: it lives in another
 * slot.)
 */

/**
 * A new session, only if its id is free. Its creation time and absolute deadline come from the
 * Redis clock. (No node can hold a copy of a brand-new session: its message is a no-op that keeps
 * the sequence going.)
 *
 * KEYS[1] session key, KEYS[2] its destroy record (see DESTROY).
 * ARGV: publish header (1..3), operation (4..5), idle ms (the session's own cookie lifetime, if
 *       any), absolute ms, number of fields N, N field/value pairs (data, and its owner and
 *       cookie lifetime).
 * Returns { 1, ttl ms, createdAt, absolute deadline, Redis time } (also when an earlier run of
 * this operation created it), { -1 } when the id is taken, or { 0 } when a session of this id
 * was destroyed: an earlier run whose reply was lost created it, and "log out everywhere" ended
 * it before this run; it stays ended (G5).
 */
export const CREATE = `
local key = KEYS[1]
local idle, absolute = tonumber(ARGV[PUB + 1]), tonumber(ARGV[PUB + 2])
local first_pair = PUB + 4
local last_pair = first_pair + 2 * tonumber(ARGV[PUB + 3]) - 1
if redis.call('EXISTS', key) == 1 then
  local made_it = redis.call('HMGET', key, 'v', 'w', 'created', 'expires')
  if made(made_it[2], (tonumber(made_it[1]) or 0) - 1) then
    return { 1, redis.call('PTTL', key), made_it[3], made_it[4], now_ms() }
  end
  publish(false)
  return { -1 }
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  publish(false)
  return { 0 }
end
local now = now_ms()
local expires = string.format('%d', now + absolute)
if last_pair >= first_pair then call_argv('HSET', key, first_pair, last_pair) end
redis.call('HSET', key, 'v', '1', 'created', now_text(), 'touched', now_text(), 'expires', expires, 'w', OP)
local ttl = math.min(idle, absolute)
redis.call('PEXPIRE', key, ttl)
publish(true)
return { 1, ttl, now, expires, now }
`;

/** How far behind the Redis clock the node's reading may be when it places a deadline, at least, ms. */
export const CLOCK_TOLERANCE_MS = 250;

/**
 * A delta save: the changed fields set, the removed ones deleted, the new version and deadline,
 * applied only onto a version the node expects: the one it read (`base`), or after a conflict
 * any of the next few (`window` versions from base, provided the cookie lifetime is still the
 * one the deadline was computed with). Everything written is decided by the node, the deadline
 * included (the idle timeout from the node's reading of the Redis clock, capped by the absolute
 * deadline): so the node can sign beforehand the message saying exactly what this write does to
 * each version it may land on, and other nodes holding that version apply it to their copies.
 * When the session is at another version, nothing is written and the node sends the same change
 * again, onto the version it is told, with a window: so a writer whose round trip is slower
 * than other writers' pace still lands (G6 holds: a delta touches only the keys the request
 * changed, whichever version it lands on). A deadline already past deletes the session.
 *
 * The node's reading of the Redis clock is checked against the clock itself: its touch time
 * must not be ahead of it (the node reads it so that it never is, unless its own clock stepped),
 * nor more than the tolerance behind (a reply that waited behind a slow command: the node allows
 * 250 ms, or twice the round trip its reading came from when that is longer). Otherwise
 * nothing is written and the node is given the time to measure again: so no deadline is ever
 * placed past the idle timeout (G7), nor much before it.
 *
 * A retry (its reply was lost) is not refused for a reading that has fallen behind meanwhile:
 * if it did not apply the change, an earlier run still in flight could apply it after the node
 * had moved on. Its deadline is then early by the time the retry took, never late. And no run
 * applies anything once the Redis clock has passed the operation's `not after` time: the node
 * gives up on an operation (answers 503) only when that time has surely passed, so a run that
 * arrives late never lands after the request failed, over a write acknowledged since (G11).
 *
 * KEYS[1] session key.
 * ARGV: publish header (1..3: the message for landing on base), operation (4..5), base version,
 *       deadline (epoch ms, Redis clock), clock tolerance ms, window W, not after (epoch ms,
 *       Redis clock), the cookie lifetime expected when W > 1 ('' for none), the messages for
 *       landing on base + 1 .. base + W - 1,
 *       number of set fields N, N field/value pairs (starting with 'v' and the version, which
 *       the script fills in, the touch time, and field w, also filled in), then the removed
 *       fields.
 * Returns { 1, Redis time in ms, version made } when written (publishes its message), or when
 *         an earlier run of this operation wrote it (publishes nothing), else publishes the
 *         no-op and returns
 *         { 0 } when there is no session: a save never resurrects a destroyed one (G5), or
 *         { -2, version, cookie lifetime ('0': none), 1 } when it is at a version outside the
 *         window (the last element 0 instead when field w no longer reaches back to the
 *         version after base, so whether this operation made it is not known), or
 *         { -3, Redis time in ms } when the node's clock reading is off, or
 *         { -4 } when the operation's time has passed.
 */
export const UPDATE = `
local key, base = KEYS[1], tonumber(ARGV[PUB + 1])
local tolerance, window = tonumber(ARGV[PUB + 3]), tonumber(ARGV[PUB + 4])
-- a session without a version, or without a readable creation time, does not exist
local meta = redis.call('HMGET', key, 'v', 'created', 'w', 'm')
local version = tonumber(meta[1])
if not version or not tonumber(meta[2]) then
  publish(false)
  return { 0 }
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if version ~= base then
  -- an earlier run of this operation made one of the versions it could land on
  for landed = base, math.min(version, base + window) - 1 do
    if made(meta[3], version - landed - 1) then return { 1, now, landed + 1 } end
  end
  if version < base or version >= base + window or (meta[4] or '') ~= ARGV[PUB + 6] then
    publish(false)
    local known = made(meta[3], version - base - 1) ~= nil
    return { -2, meta[1], meta[4] or '0', known and 1 or 0 }
  end
end
local alternatives = PUB + 6
local first_pair = alternatives + window + 1
local first_removed = first_pair + 2 * tonumber(ARGV[alternatives + window])
-- the pairs start with 'v', '', 'touched', the node's reading of the clock, 'w', ''
-- (2 ms of slack: both clocks are read in whole milliseconds)
local behind = now - tonumber(ARGV[first_pair + 3])
if behind < -2 or (behind > tolerance and not RETRY) then
  publish(false)
  return { -3, now }
end
if now >= tonumber(ARGV[PUB + 5]) then
  publish(false)
  return { -4 }
end
ARGV[first_pair + 1] = string.format('%d', version + 1)
ARGV[first_pair + 5] = with_op(meta[3])
call_argv('HSET', key, first_pair, first_removed - 1)
if first_removed <= #ARGV then call_argv('HDEL', key, first_removed, #ARGV) end
redis.call('PEXPIREAT', key, ARGV[PUB + 2])
if ARGV[1] ~= '' then
  redis.call('PUBLISH', ARGV[1], version == base and ARGV[2] or ARGV[alternatives + version - base])
end
return { 1, now, version + 1 }
`;
