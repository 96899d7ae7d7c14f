/**
 * The per-user index: a sorted set of session ids scored by a deadline no earlier than the
 * session's absolute timeout, and beside it (same hash tag, same slot) a hash of what
 * `describeClient` recorded for each of them. It lives in its own hash slot, so it is kept in
 * steps separate from the session scripts: an id is added before its session names the user (a
 * failure in between leaves an entry without a session, never a session missing from the
 * index), and entries whose session is gone or owned by someone else are pruned when the index
 * is read.
 */

/**
 * Drops the entries past their deadline, with their client descriptions; and the keys
 * themselves when they are not of their type (Redis content, not trusted: such an index would
 * fail every call on it, and it lists nothing that can be read anyway).
 */
const PRUNE = `
local function prune(ikey, ckey, now)
  if redis.call('TYPE', ikey).ok ~= 'zset' then redis.call('DEL', ikey) end
  if redis.call('TYPE', ckey).ok ~= 'hash' then redis.call('DEL', ckey) end
  local old = redis.call('ZRANGEBYSCORE', ikey, '-inf', now)
  for i = 1, #old, 1000 do
    local slice = { unpack(old, i, math.min(i + 999, #old)) }
    redis.call('ZREM', ikey, unpack(slice))
    redis.call('HDEL', ckey, unpack(slice))
  end
end
`;

/**
 * KEYS[1] user index, KEYS[2] its client descriptions. ARGV: absolute timeout ms, id, the
 * client's description ('' leaves it as it is), an id whose description the new one takes
 * ('' none: a regenerate passes the old id), the session's absolute deadline as stored (epoch
 * ms, '' when not known yet). Adds the id, scored by the later of the deadline and now +
 * absolute timeout, never lowering a score (a node with a shorter `absoluteTimeout` in a
 * rolling deploy must not prune a session still alive); drops entries past their deadline, and
 * keeps both keys alive as long as the latest entry.
 */
export const INDEX_ADD =
  PRUNE +
  `
local ikey, ckey, absolute, id = KEYS[1], KEYS[2], tonumber(ARGV[1]), ARGV[2]
local now = now_ms()
prune(ikey, ckey, now)
local deadline = math.max(now + absolute, tonumber(ARGV[5]) or 0)
local scored = tonumber(redis.call('ZSCORE', ikey, id))
if not scored or scored < deadline then redis.call('ZADD', ikey, string.format('%d', deadline), id) end
local client = ARGV[3]
if client == '' and ARGV[4] ~= '' then client = redis.call('HGET', ckey, ARGV[4]) or '' end
if client ~= '' then redis.call('HSET', ckey, id, client) end
local latest = tonumber(redis.call('ZRANGE', ikey, -1, -1, 'WITHSCORES')[2]) - now
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 and redis.call('PTTL', key) < latest then
    redis.call('PEXPIRE', key, latest)
  end
end
return 1
`;

/**
 * KEYS[1] user index, KEYS[2] its client descriptions. Drops entries past their deadline;
 * returns the ids left, each followed by its client description ('' for none).
 */
export const INDEX_LIST =
  PRUNE +
  `
prune(KEYS[1], KEYS[2], now_ms())
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local reply = {}
for _, id in ipairs(ids) do
  reply[#reply + 1] = id
  reply[#reply + 1] = redis.call('HGET', KEYS[2], id) or ''
end
return reply
`;

/** KEYS[1] a lock, ARGV[1] its holder's token: released only by its holder. */
export const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** KEYS[1] user index, KEYS[2] its client descriptions. ARGV: the ids to remove. */
export const INDEX_REMOVE = `
if redis.call('TYPE', KEYS[1]).ok ~= 'zset' then redis.call('DEL', KEYS[1]) end
if redis.call('TYPE', KEYS[2]).ok ~= 'hash' then redis.call('DEL', KEYS[2]) end
for i = 1, #ARGV, 1000 do
  local slice = { unpack(ARGV, i, math.min(i + 999, #ARGV)) }
  redis.call('ZREM', KEYS[1], unpack(slice))
  redis.call('HDEL', KEYS[2], unpack(slice))
end
return 1
`;
