/**
 * Claims a connect-redis session for one migration. Its key (a plain string, in its own slot)
 * cannot be changed in one script with the new session's hash, so the node first creates the new
 * session, then claims the old one here: only one claim succeeds, and the loser deletes what it
 * created and adopts the winner's. The old value is replaced by a marker naming the new id, kept
 * briefly for requests of the same browser already in flight.
 *
 * KEYS[1] connect-redis key. ARGV: the value the node read, the marker, marker lifetime ms.
 * Returns { 1 } when claimed, { 0, value } when the value changed (another node's marker, or
 * nothing).
 */
export const MIGRATE_LEGACY = `
local value = redis.call('GET', KEYS[1])
if value ~= ARGV[1] then return { 0, value or '' } end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return { 1 }
`;
