/**
 * The per-user index: a sorted set of session ids scored by a deadline no earlier than the
 * session's absolute timeout. It lives in its own hash slot, so it is kept in steps separate
 * from the session scripts: an id is added before its session names the user (a failure in
 * between leaves an entry without a session, never a session missing from the index), and
 * entries whose session is gone or owned by someone else are pruned when the index is read.
 */

/**
 * KEYS[1] user index. ARGV: absolute timeout ms, id. Adds the id, drops entries past their
 * deadline, and keeps the index alive as long as its newest entry.
 */
export const INDEX_ADD = `
local ikey, absolute, id = KEYS[1], tonumber(ARGV[1]), ARGV[2]
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', ikey, '-inf', now)
redis.call('ZADD', ikey, now + absolute, id)
if redis.call('PTTL', ikey) < absolute then redis.call('PEXPIRE', ikey, absolute) end
return 1
`;

/** KEYS[1] user index. Drops entries past their deadline; returns the ids left. */
export const INDEX_LIST = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms())
return redis.call('ZRANGE', KEYS[1], 0, -1)
`;
