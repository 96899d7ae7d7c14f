/**
 * Lua shared by the session scripts.
 *
 * - Times come from the Redis clock (TIME), so nodes with skewed clocks agree on expiry.
 * - Every script touches one key, or two keys of one hash slot (regenerate), so each runs
 *   unchanged on Redis Cluster. Key layout: `lib/store/session-keys.ts`.
 * - ARGV[1..6] of every writing script is the publish header: channel (empty: no Pub/Sub),
 *   origin node id, origin epoch, sequence number, and the HMAC inner and outer padded keys.
 *   A writing script publishes exactly one message, also when it changed nothing (kind 'n'),
 *   so receivers can tell a lost message from a no-op by the sequence numbers.
 * - A writing script that fails (a type error at its first read, OOM at its first write: Redis
 *   checks memory only before a script's first write) has written nothing; \`guarded\` still
 *   publishes its sequence number, as a no-op, so other nodes see no gap and do not flush their
 *   caches for it, then returns the error.
 * - Messages read `ncs1|kind|ids|version|origin|epoch|seq|ts_us|mac`, where mac is
 *   HMAC-SHA1 (built from redis.sha1hex; Lua has no HMAC-SHA256) over everything before it.
 */
export const PRELUDE = `
local PUB = 6

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

local function unhex(hex)
  return (hex:gsub('..', function(pair) return string.char(tonumber(pair, 16)) end))
end

-- kind: 'i' invalidate (new version), 'd' destroy, 'c' clear every cache, 'n' no-op
local function publish(kind, ids, version)
  if ARGV[1] == '' then return end
  local t = redis.call('TIME')
  local body = 'ncs1|' .. kind .. '|' .. ids .. '|' .. version .. '|' .. ARGV[2] .. '|' .. ARGV[3] .. '|' ..
    ARGV[4] .. '|' .. t[1] .. string.format('%06d', tonumber(t[2]))
  local mac = redis.sha1hex(ARGV[6] .. unhex(redis.sha1hex(ARGV[5] .. body)))
  redis.call('PUBLISH', ARGV[1], body .. '|' .. mac)
end

local function guarded(main)
  local ok, result = pcall(main)
  if ok then return result end
  publish('n', '', 0)
  if type(result) == 'table' and result.err then return result end
  return redis.error_reply(tostring(result))
end
`;
