/** How long a destroy's record stays, ms: longer than any retry of that destroy takes. */
export const DESTROYED_RECORD_MS = 60_000;

/**
 * KEYS[1] session key, KEYS[2] its destroy record. ARGV: publish header (1..3), operation
 * (4..5), and optionally a user id: then the session is deleted only while that user owns it
 * (log out everywhere).
 * Returns 1 when a session was deleted, else 0; publishes the message (a destroy) unless the
 * owner differs (then the no-op). A deletion is recorded under KEYS[2] for a while, with the
 * operation that made it: a run that finds its own operation there (an earlier run's reply was
 * lost) answers 1 and publishes nothing.
 */
export const DESTROY = `
local key, record = KEYS[1], KEYS[2]
if redis.call('GET', record) == OP then return 1 end
local user = ARGV[PUB + 1]
if user and redis.call('HGET', key, 'user') ~= user then
  publish(false)
  return 0
end
local deleted = redis.call('DEL', key)
if deleted == 1 then redis.call('SET', record, OP, 'PX', '${DESTROYED_RECORD_MS}') end
publish(true)
return deleted
`;
