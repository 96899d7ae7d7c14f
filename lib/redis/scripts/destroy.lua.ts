/**
 * KEYS[1] session key. ARGV: publish header (1..6), key prefix, id.
 * Returns 1 when a session was deleted, else 0; publishes 'd' either way.
 */
export const DESTROY = `
local prefix, id = ARGV[PUB + 1], ARGV[PUB + 2]
local owner = redis.call('HGET', KEYS[1], 'user')
local deleted = redis.call('DEL', KEYS[1])
if owner then redis.call('ZREM', index_key(prefix, owner), id) end
publish('d', id, 0)
return deleted
`;
