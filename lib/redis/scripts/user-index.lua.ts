/**
 * KEYS[1] user index. ARGV: key prefix, user id.
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
 * KEYS[1] user index. ARGV: key prefix, user id.
 * Deletes every session of the user and the index; returns the deleted ids.
 */
export const DESTROY_FOR_USER = `
local ikey, prefix, user = KEYS[1], ARGV[1], ARGV[2]
local deleted = {}
for _, id in ipairs(redis.call('ZRANGE', ikey, 0, -1)) do
  if redis.call('HGET', prefix .. id, 'user') == user then
    redis.call('DEL', prefix .. id)
    table.insert(deleted, id)
  end
end
redis.call('DEL', ikey)
return deleted
`;
