/**
 * KEYS[1] user index. ARGV: key prefix, user id. (Reads only: no publish header.)
 * Prunes expired and foreign entries (lazily, here rather than on every write) and returns the
 * ids of the user's live sessions.
 */
export const LIST_FOR_USER = `
local ikey, prefix, user = KEYS[1], ARGV[1], ARGV[2]
redis.call('ZREMRANGEBYSCORE', ikey, '-inf', now_ms())
local live = {}
for _, id in ipairs(redis.call('ZRANGE', ikey, 0, -1)) do
  if redis.call('HGET', prefix .. id, 'user') == user then
    table.insert(live, id)
  else
    redis.call('ZREM', ikey, id)
  end
end
return live
`;

/**
 * KEYS[1] user index. ARGV: publish header (1..6), key prefix, user id.
 * Deletes every session of the user and the index; publishes one 'd' naming them all and
 * returns the deleted ids.
 */
export const DESTROY_FOR_USER = `
local ikey, prefix, user = KEYS[1], ARGV[PUB + 1], ARGV[PUB + 2]
local deleted = {}
for _, id in ipairs(redis.call('ZRANGE', ikey, 0, -1)) do
  if redis.call('HGET', prefix .. id, 'user') == user then
    redis.call('DEL', prefix .. id)
    table.insert(deleted, id)
  end
end
redis.call('DEL', ikey)
if #deleted == 0 then publish('n', '', 0) else publish('d', table.concat(deleted, ','), 0) end
return deleted
`;
