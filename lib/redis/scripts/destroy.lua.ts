/**
 * KEYS[1] session key. ARGV: key prefix, id.
 * Returns 1 when a session was deleted, else 0.
 */
export const DESTROY = `
local owner = redis.call('HGET', KEYS[1], 'user')
local deleted = redis.call('DEL', KEYS[1])
if owner then redis.call('ZREM', index_key(ARGV[1], owner), ARGV[2]) end
return deleted
`;
