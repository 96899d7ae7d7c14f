/**
 * Lua shared by the session scripts.
 *
 * - Times come from the Redis clock (TIME), so nodes with skewed clocks agree on expiry.
 * - Every script touches one key, or two keys of one hash slot (regenerate), so each runs
 *   unchanged on Redis Cluster. Key layout: `lib/store/session-keys.ts`.
 * - ARGV[1..3] of every writing script is the publish header: the channel (empty: no Pub/Sub),
 *   the message to publish when the script does what it was asked, and the no-op to publish
 *   otherwise. Both are built and signed by the node (see cluster-message.ts and
 *   MessageAuthenticator): the script publishes one of them as it is, and hashes nothing. A
 *   writing script publishes exactly one, so receivers can tell a lost message from a write that
 *   changed nothing by the sequence numbers.
 * - ARGV[4..5] of every writing script name the operation: its id (fixed width, unique to this
 *   attempt of this write) and whether this run is a retry after a reply was lost. A run that
 *   finds its operation already done (an earlier run whose reply never arrived) writes and
 *   publishes nothing and answers as that run did (G11): so a write runs at most once however
 *   often it is sent. The writes that make a version record their operation in field `w`, the
 *   newest first, for the last {@link OPS_KEPT} versions.
 * - A writing script that fails (a type error at its first read, OOM at its first write: Redis
 *   checks memory only before a script's first write) has written nothing; `guarded` still
 *   publishes the no-op, so other nodes see no gap and do not flush their caches for it, then
 *   returns the error.
 * - Each script gets the parts it uses (`PUBLISHING`, `SLICES`, `CLOCK`): the chunk runs
 *   on every call, and the update, the one hot write, reads no clock.
 * - TIME is read once per script (`clock`): a script runs for microseconds.
 * - Values go to `redis.call` and into messages as strings where the script has them so: Redis
 *   7.0 formats each number argument with printf ("%.17g") and Lua each concatenated number
 *   ("%.14g"), which was a tenth of a save's Redis time (perf, #17).
 */
/** The Redis clock, read once per script, and a session's remaining life. */
export const CLOCK = `
local TIME
local function clock()
  TIME = TIME or redis.call('TIME')
  return TIME
end

-- the clock's microseconds, zero-padded to six digits
local function micros(t)
  return string.rep('0', 6 - #t[2]) .. t[2]
end

-- the Redis clock in milliseconds, as text and as a number
local NOW
local function now_text()
  if not NOW then
    local t = clock()
    NOW = t[1] .. string.sub(micros(t), 1, 3)
  end
  return NOW
end

local function now_ms()
  return tonumber(now_text())
end

-- remaining life: the idle timeout, capped by the absolute deadline
local function life(key, idle, now)
  local expires = tonumber(redis.call('HGET', key, 'expires'))
  if not expires then return 0 end
  return math.min(idle, expires - now)
end
`;

/** Commands with more arguments than unpack() takes. */
export const SLICES = `
-- runs cmd(key, ARGV[from..to]) in slices: unpack() fails beyond a few thousand values (the
-- slices keep an even length, so field/value pairs stay whole)
local function call_argv(cmd, key, from, to)
  for i = from, to, 1000 do
    redis.call(cmd, key, unpack(ARGV, i, math.min(i + 999, to)))
  end
end
`;

/** Characters of an operation id (see OperationIds). */
export const OP_WIDTH = 10;
/** Operations remembered per session: the writes that made its last this-many versions. */
/** (6 × 10 characters: under `hash-max-listpack-value`, 64, so a session hash stays a listpack.) */
export const OPS_KEPT = 6;

/** The publish header, the operation, and the guard of every writing script. */
export const PUBLISHING = `
local PUB = 5
local OP, RETRY = ARGV[4], ARGV[5] == '1'
local OP_WIDTH, OPS_KEPT = ${OP_WIDTH}, ${OPS_KEPT}

-- field w after a write by this operation: its id, then the ids of the versions before
local function with_op(ops)
  return OP .. string.sub(ops or '', 1, OP_WIDTH * (OPS_KEPT - 1))
end

-- whether this operation made the version 'back' versions before the newest (0: the newest);
-- nil when field w does not reach that far back (more writes since than it keeps)
local function made(ops, back)
  ops = ops or ''
  if back < 0 or (back + 1) * OP_WIDTH > #ops then return nil end
  return string.sub(ops, back * OP_WIDTH + 1, (back + 1) * OP_WIDTH) == OP
end

-- ok: the write did what it announced (ARGV[2]); else the no-op (ARGV[3])
local function publish(ok)
  if ARGV[1] == '' then return end
  redis.call('PUBLISH', ARGV[1], ok and ARGV[2] or ARGV[3])
end

local function guarded(main)
  local ok, result = pcall(main)
  if ok then return result end
  publish(false)
  if type(result) == 'table' and result.err then return result end
  return redis.error_reply(tostring(result))
end
`;
