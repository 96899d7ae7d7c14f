/**
 * Claims a connect-redis session for one migration. Its key (a plain string, in its own slot)
 * cannot be changed in one script with the new session's hash, so the node first creates the new
 * session, then claims the old one here: only one claim succeeds, and the loser deletes what it
 * created and adopts the winner's. The old value is replaced by the marker (the same
 * express-session JSON naming the new id), for the rest of its lifetime: requests of the same
 * browser follow it to the new session, and nodes still on express-session keep reading it.
 *
 * KEYS[1] connect-redis key. ARGV: the value the node read, the marker.
 * Returns { 1 } when claimed, { 0, value } when the value changed (another node's marker, or
 * nothing).
 */
export const MIGRATE_LEGACY = `
local value = redis.call('GET', KEYS[1])
if value ~= ARGV[1] then return { 0, value or '' } end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return { 1 }
`;
