/**
 * KEYS[1] session key. ARGV: publish header (1..6), id, and optionally a user id: then the
 * session is deleted only while that user owns it (log out everywhere).
 * Returns 1 when a session was deleted, else 0; publishes 'd' when deleted, else 'n'.
 */
export const DESTROY = `
local id, user = ARGV[PUB + 1], ARGV[PUB + 2]
if user and redis.call('HGET', KEYS[1], 'user') ~= user then
  publish('n', '', 0)
  return 0
end
local deleted = redis.call('DEL', KEYS[1])
publish('d', id, 0)
return deleted
`;
