/**
 * Lua shared by the session scripts. Times come from the Redis clock (TIME), so nodes with
 * skewed clocks still agree on expiry. Sessions are hashes under `<prefix><id>`; the per-user
 * index is a sorted set under `<prefix>user:<userId>` scored by each session's expiry time.
 */
export const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- remaining life: the idle timeout, capped by the absolute deadline
local function life(key, idle, now)
  local expires = tonumber(redis.call('HGET', key, 'expires'))
  if not expires then return 0 end
  return math.min(idle, expires - now)
end

-- runs cmd(key, ARGV[from..to]) in slices: unpack() fails beyond a few thousand values
local function call_argv(cmd, key, from, to)
  for i = from, to, 1000 do
    redis.call(cmd, key, unpack(ARGV, i, math.min(i + 999, to)))
  end
end

local function index_key(prefix, user)
  return prefix .. 'user:' .. user
end

-- records (or refreshes) a session in its user's index; the index outlives its longest session
local function index_add(prefix, user, id, now, ttl)
  local ikey = index_key(prefix, user)
  redis.call('ZADD', ikey, now + ttl, id)
  if redis.call('PTTL', ikey) < ttl then redis.call('PEXPIRE', ikey, ttl) end
end
`;
