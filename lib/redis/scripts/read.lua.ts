/**
 * A read as a script, for a connection the module shares with the application (an instance
 * passed in `redis`): its own reads are `MULTI … EXEC` transactions, cheaper for Redis, but a
 * transaction on a shared connection would clear the application's `WATCH` or commit its open
 * `MULTI`.
 *
 * KEYS[1] session key. (No publish header: reads publish nothing.)
 * Returns false when absent, else { HGETALL, PTTL, Redis time in ms }.
 */
export const READ = `
local hash = redis.call('HGETALL', KEYS[1])
if #hash == 0 then return false end
return { hash, redis.call('PTTL', KEYS[1]), now_ms() }
`;
