/**
 * Sliding expiry, throttled: refreshes the TTL only when the last save or touch is at least
 * `touchAfter` old, so a busy session costs one write per `touchAfter`, not one per request.
 * Publishes nothing: the data did not change, and a touch never shortens the key's life, so
 * cached copies on other nodes expire no later than the key (G7; nodes with different idle
 * timeouts during a configuration roll-out: the longer one holds until a save places a new
 * deadline, which travels in its message).
 * (The user's index needs no refresh: its entries are scored by the absolute deadline.)
 *
 * KEYS[1] session key. ARGV: idle ms (a session's own cookie lifetime, field `m`, replaces
 * it), touchAfter ms.
 * Returns { 0 } when absent, { 1, pttl, ms since the last save or touch } when throttled,
 * { 2, ttl, 0 } when refreshed: the node records when the session was last refreshed, so its
 * cached copy asks again only `touchAfter` after that, not on every hit.
 */
export const TOUCH = `
local key = KEYS[1]
local idle, touch_after = tonumber(ARGV[1]), tonumber(ARGV[2])
if redis.call('EXISTS', key) == 0 then return { 0 } end
local now = now_ms()
local touched = tonumber(redis.call('HGET', key, 'touched'))
idle = tonumber(redis.call('HGET', key, 'm')) or idle
-- a short idle timeout slides at least twice per lifetime, whatever touchAfter says
touch_after = math.min(touch_after, math.floor(idle / 2))
if touched and now - touched < touch_after then
  -- a touch time ahead of the clock (a node's reading, off by up to the tolerance) is "just now"
  return { 1, redis.call('PTTL', key), math.max(0, now - touched) }
end
local ttl = life(key, idle, now)
if ttl <= 0 then
  redis.call('DEL', key)
  return { 0 }
end
redis.call('HSET', key, 'touched', now)
if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
return { 2, ttl, 0 }
`;
