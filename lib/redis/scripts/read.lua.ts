/**
 * KEYS[1] session key. (No publish header: reads publish nothing.)
 * Returns false when absent, else { HGETALL, PTTL, Redis time in ms }.
 */
export const READ = `
local hash = redis.call('HGETALL', KEYS[1])
if #hash == 0 then return false end
return { hash, redis.call('PTTL', KEYS[1]), now_ms() }
`;
