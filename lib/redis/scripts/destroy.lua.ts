/**
 * KEYS[1] session key. ARGV: publish header (1..3), and optionally a user id: then the session
 * is deleted only while that user owns it (log out everywhere).
 * Returns 1 when a session was deleted, else 0; publishes the message (a destroy) unless the
 * owner differs (then the no-op).
 */
export const DESTROY = `
local user = ARGV[PUB + 1]
if user and redis.call('HGET', KEYS[1], 'user') ~= user then
  publish(false)
  return 0
end
local deleted = redis.call('DEL', KEYS[1])
publish(true)
return deleted
`;
