import { createHash } from 'node:crypto';
import { ClusterSessionRuntime } from '../lib/cluster-session.runtime';
import { SESSION_SCRIPTS } from '../lib/redis/session-commands';
import type { ClusterSessionOptions } from '../lib/options/cluster-session-options.interface';
import { resolveOptions } from '../lib/options/resolve-options';
import { RedisServer } from '../sample/support/redis-server';
import { TEST_SECRET } from '../test/support/cluster-fixture';
import { restore, snapshot, type Snapshot } from './support/dataset-snapshot';
import { pin } from './support/pin';
import { parseCommands, RecordingProxy, type Recording } from './support/recording-proxy';
import { driverBinary, RecordingFiles, replay, type ReplayResult } from './support/replay-driver';
import { expressSessionStack } from './support/session-stacks';
import { sessionPayload } from './support/session-payload';

/**
 * #28: what each kind of Redis command costs one saturated Redis core, so that the capacity of
 * any traffic follows from the commands it sends by kind (the traffic model counts them).
 *
 * One recording per stack, through the recording proxy: this module's node with a one-entry
 * local cache (so every read is the read script) reading random sessions of 1,000, saving 30 %
 * of them changed and touching 30 % (touchAfter 1 ms, so a touch refreshes); express-session +
 * connect-redis serving requests with 20 % writes (GET, then SET or its touch). The recording is
 * split by kind (a script by its SHA), and each kind is replayed alone by the C driver against
 * one redis-server alone on its core, in the saturation benchmark's two regimes: Redis CPU
 * microseconds per command (a read's transaction counted as one). The update script publishes, so it is replayed with 1 to 64
 * subscribers draining the messages: every node of a deployment has one. Then each recording is
 * replayed whole, to check that the kinds' costs add up to the mix's.
 */

export const REGIMES = [
  { name: '64 × 8', connections: 64, depth: 8 },
  { name: '4 × 512', connections: 4, depth: 512 },
] as const;
export const FAN_OUT = [1, 4, 16, 64];
const SESSIONS = 1_000;
/** Saves recorded for the writing path: more than any replay sends, so none is replayed twice. */
const WRITES = 150_000;
/** An update's arguments (after EVALSHA, SHA, numkeys, key): ARGV[8] the clock tolerance, ARGV[10] `not after`. */
const TOLERANCE_ARG = 3 + 8;
const NOT_AFTER_ARG = 3 + 10;
const OPERATIONS = 20_000;
const IN_FLIGHT = 16;
const DRIVER_WARMUP_SECONDS = 0.3;
const MIN_BUSY = 0.85;
const ATTEMPTS = 3;
/** Replays per figure: the least of them is kept (the least disturbed by other work on the machine). */
const REPEATS = 3;

/** Microseconds of one Redis core per command, by regime then kind ('update@4': 4 subscribers). */
export interface CommandCosts {
  date: string;
  regimes: Record<string, Record<string, number>>;
  /** Per regime and stack: the whole recording's cost per command, measured and summed from the kinds. */
  check: Record<string, Record<string, { measured: number; predicted: number }>>;
}

interface Recorded {
  stack: 'cluster' | 'express';
  redis: RedisServer;
  dataset: Snapshot;
  recording: Recording;
}

/** Each session script's SHA, named as the traffic model counts it. */
const KIND_OF_SHA = new Map(
  Object.entries({ clusterSessionUpdate: 'update', clusterSessionTouch: 'touch' }).map(
    ([name, kind]) => [createHash('sha1').update(SESSION_SCRIPTS[name]).digest('hex'), kind],
  ),
);

/** One unit of work a client sends: a command, or a whole `MULTI` … `EXEC` (this module's read). */
interface Unit {
  kind: string;
  start: number;
  end: number;
  commands: number;
}

function kindOf(args: Buffer[]): string {
  const name = args[0].toString().toLowerCase();
  if (name === 'evalsha') {
    return KIND_OF_SHA.get(args[1].toString().toLowerCase()) ?? 'other';
  }
  if (name === 'eval') {
    return KIND_OF_SHA.get(createHash('sha1').update(args[1]).digest('hex')) ?? 'other';
  }
  return ['get', 'set', 'expire'].includes(name) ? name : 'other';
}

function units(stream: Buffer): Unit[] {
  const out: Unit[] = [];
  let open: Unit | undefined;
  for (const { args, start, end } of parseCommands(stream)) {
    const name = args[0].toString().toLowerCase();
    if (name === 'multi') {
      open = { kind: 'other', start, end, commands: 1 };
    } else if (open) {
      open.end = end;
      open.commands++;
      if (name === 'hgetall') {
        open.kind = 'read';
      } else if (name === 'exec') {
        out.push(open);
        open = undefined;
      }
    } else {
      out.push({ kind: kindOf(args), start, end, commands: 1 });
    }
  }
  return out;
}

/** The recording with only the units `keep` accepts, and `subscribers` subscribers. */
function only(recording: Recording, keep: (kind: string) => boolean, subscribers: number) {
  let commands = 0;
  let kept = 0;
  const streams = recording.streams
    .map((stream) => {
      const chosen = units(stream).filter((unit) => keep(unit.kind));
      commands += chosen.reduce((sum, unit) => sum + unit.commands, 0);
      kept += chosen.length;
      return Buffer.concat(chosen.map(({ start, end }) => stream.subarray(start, end)));
    })
    .filter((stream) => stream.length > 0);
  return {
    recording: { ...recording, streams, commands, subscribers },
    commandsPerUnit: commands / kept,
  };
}

function countKinds(recording: Recording): Map<string, number> {
  const counts = new Map<string, number>();
  for (const stream of recording.streams) {
    for (const { kind } of units(stream)) {
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * One node of this module (`options`) on its own Redis, 1,000 sessions, and a recorded window of
 * `operations` calls of `operate` on random sessions, IN_FLIGHT at a time.
 */
async function recordNode(
  options: Omit<ClusterSessionOptions, 'secret' | 'redis'>,
  operations: number,
  operate: (node: ClusterSessionRuntime, id: string) => Promise<void>,
): Promise<Recorded> {
  return recorded('cluster', async (url, window) => {
    const node = new ClusterSessionRuntime(
      resolveOptions({ secret: TEST_SECRET, redis: url, ...options }),
    );
    await node.start();
    try {
      const ids = await Promise.all(
        Array.from(
          { length: SESSIONS },
          async (_, i) => (await node.store.create(sessionPayload(i))).id,
        ),
      );
      await window(async () => {
        let issued = 0;
        await Promise.all(
          Array.from({ length: IN_FLIGHT }, async () => {
            while (issued++ < operations) {
              await operate(node, ids[Math.floor(Math.random() * ids.length)]);
            }
          }),
        );
      });
    } finally {
      await node.stop();
    }
  });
}

/** Reads that all go to Redis (a one-entry cache), 30 % of them saved and 30 % touched. */
function recordCluster(): Promise<Recorded> {
  const options = { touchAfter: 1, cluster: { nodeId: 'costs', localCacheMaxSize: 1 } };
  return recordNode(options, OPERATIONS, async (node, id) => {
    const session = await node.store.get(id);
    const draw = Math.random();
    if (session && draw < 0.3) {
      session.data.visits = Number(session.data.visits) + 1;
      await node.store.save(session);
    } else if (draw < 0.6) {
      await node.store.touch(id);
    }
  });
}

/**
 * Saves only, for the writing path: a replay of recorded saves that loops finds each save's
 * version moved on (or its clock reading stale) and measures the refusing path. Here the
 * saves are replayed once each, in the recorded order per session, one connection per group
 * of sessions, with the clock tolerance and the `not after` time widened so that a reading
 * taken at recording time still passes: every replayed save writes.
 */
function recordWrites(): Promise<Recorded> {
  return recordNode({ cluster: { nodeId: 'writes' } }, WRITES, async (node, id) => {
    const session = await node.store.get(id);
    session!.data.visits = Number(session!.data.visits) + 1;
    await node.store.save(session!);
  });
}

/** The recorded saves as `connections` streams, each session's in one, clock checks widened. */
function writing(recording: Recording, connections: number, subscribers: number) {
  const streams: Buffer[][] = Array.from({ length: connections }, () => []);
  let commands = 0;
  for (const stream of recording.streams) {
    for (const { args } of parseCommands(stream)) {
      if (kindOf(args) !== 'update') {
        continue;
      }
      const rewritten = [...args];
      rewritten[TOLERANCE_ARG] = Buffer.from('86400000');
      rewritten[NOT_AFTER_ARG] = Buffer.from('99999999999999');
      const key = args[3].toString();
      const shard = createHash('sha1').update(key).digest().readUInt32BE(0) % connections;
      streams[shard].push(encode(rewritten));
      commands++;
    }
  }
  return {
    recording: {
      ...recording,
      streams: streams.map((parts) => Buffer.concat(parts)),
      commands,
      subscribers,
    },
    commandsPerUnit: 1,
  };
}

function encode(args: Buffer[]): Buffer {
  return Buffer.concat([
    Buffer.from(`*${args.length}\r\n`),
    ...args.flatMap((arg) => [Buffer.from(`$${arg.length}\r\n`), arg, Buffer.from('\r\n')]),
  ]);
}

/** The sum of the sessions' versions in Redis: how many saves wrote. */
async function versions(redis: RedisServer): Promise<number> {
  const client = redis.client();
  try {
    const keys = (await client.keys('sess:*')).filter((key) => !key.includes(':destroyed'));
    const pipeline = client.pipeline();
    keys.forEach((key) => pipeline.hget(key, 'v'));
    const replies = (await pipeline.exec()) ?? [];
    return replies.reduce((sum, [, v]) => sum + (Number(v) || 0), 0);
  } finally {
    client.disconnect();
  }
}

async function recordExpress(): Promise<Recorded> {
  return recorded('express', async (url, window) => {
    const stack = await expressSessionStack(url, 1, SESSIONS);
    try {
      await window(async () => {
        let issued = 0;
        await Promise.all(
          Array.from({ length: IN_FLIGHT }, async () => {
            while (issued++ < OPERATIONS) {
              await stack.request(Math.random() < 0.2);
            }
          }),
        );
      });
    } finally {
      await stack.close();
    }
  });
}

/** A Redis of its own on CPU 1 and `drive` run through the recording proxy; the window recorded. */
async function recorded(
  stack: Recorded['stack'],
  drive: (url: string, window: (work: () => Promise<void>) => Promise<void>) => Promise<void>,
): Promise<Recorded> {
  const redis = await RedisServer.start();
  pin(redis.pid, 1);
  const proxy = await RecordingProxy.start(redis.port);
  try {
    let dataset: Snapshot = [];
    let recording: Recording | undefined;
    await drive(proxy.url, async (work) => {
      dataset = await snapshot(redis);
      proxy.begin();
      await work();
      recording = proxy.end();
    });
    return { stack, redis, dataset, recording: recording! };
  } catch (error) {
    await redis.dispose();
    throw error;
  } finally {
    await proxy.close();
  }
}

/** One replay of `files` by the driver on the recording's dataset, restored first; error replies throw. */
async function replayOnce(
  on: Recorded,
  files: RecordingFiles,
  regime: (typeof REGIMES)[number],
  seconds: number,
): Promise<ReplayResult> {
  await restore(on.redis, on.dataset, on.recording.scripts);
  const result = await replay(files, {
    port: on.redis.port,
    redisPid: on.redis.pid!,
    connections: regime.connections,
    depth: regime.depth,
    warmupSeconds: DRIVER_WARMUP_SECONDS,
    seconds,
  });
  if (result.errors > result.noscript) {
    throw new Error(`command costs: ${result.errors} error replies: ${result.firstError}`);
  }
  return result;
}

/**
 * Redis CPU µs per unit replaying `recording` alone: the least of REPEATS replays where Redis
 * was at least MIN_BUSY busy (up to ATTEMPTS more when it was not).
 */
async function cost(
  on: Recorded,
  { recording, commandsPerUnit }: ReturnType<typeof only>,
  regime: (typeof REGIMES)[number],
  seconds: number,
): Promise<{ usPerUnit: number; busy: number }> {
  const files = new RecordingFiles(recording);
  try {
    const kept: { usPerUnit: number; busy: number }[] = [];
    let least: { usPerUnit: number; busy: number } | undefined;
    for (let run = 0; run < REPEATS + ATTEMPTS && kept.length < REPEATS; run++) {
      const result = await replayOnce(on, files, regime, seconds);
      const measured = {
        usPerUnit: (result.redisCpu / (result.replies / commandsPerUnit)) * 1e6,
        busy: result.redisCpu / result.wall,
      };
      if (measured.busy >= MIN_BUSY) {
        kept.push(measured);
      } else if (!least || measured.busy > least.busy) {
        least = measured;
      }
    }
    return kept.length > 0
      ? kept.reduce((best, next) => (next.usPerUnit < best.usPerUnit ? next : best))
      : least!;
  } finally {
    files.dispose();
  }
}

/**
 * The writing path's cost: the recorded saves replayed once each (see `writing`), the least of
 * REPEATS; and the share of the saves sent that wrote (versions made ÷ saves sent, the warm-up's
 * included: under 1 when a replay ran past the recording and looped).
 */
async function writingCost(
  on: Recorded,
  regime: (typeof REGIMES)[number],
  subscribers: number,
  seconds: number,
): Promise<{ usPerUnit: number; busy: number; wrote: number }> {
  const unit = writing(on.recording, regime.connections, subscribers);
  const files = new RecordingFiles(unit.recording);
  try {
    let best: { usPerUnit: number; busy: number; wrote: number } | undefined;
    // every replay starts from the same dataset: the versions it holds are counted once
    await restore(on.redis, on.dataset, on.recording.scripts);
    const before = await versions(on.redis);
    for (let run = 0; run < REPEATS; run++) {
      const result = await replayOnce(on, files, regime, seconds);
      const sent = (result.replies * (seconds + DRIVER_WARMUP_SECONDS)) / seconds;
      const measured = {
        usPerUnit: (result.redisCpu / result.replies) * 1e6,
        busy: result.redisCpu / result.wall,
        wrote: Math.min(1, ((await versions(on.redis)) - before) / sent),
      };
      if (!best || measured.usPerUnit < best.usPerUnit) {
        best = measured;
      }
    }
    return best!;
  } finally {
    files.dispose();
  }
}

export async function commandCostsBench({ seconds = 1 } = {}): Promise<{
  lines: string[];
  costs: CommandCosts | null;
}> {
  if (process.platform !== 'linux') {
    return {
      lines: ['Skipped: the replay driver needs Linux (epoll, /proc schedstat).'],
      costs: null,
    };
  }
  const pinned = pin(process.pid, 0);
  driverBinary();
  const costs: CommandCosts = { date: new Date().toISOString(), regimes: {}, check: {} };
  const rows: string[] = [];
  const busiest: number[] = [];
  const stacks: Recorded[] = [];
  try {
    stacks.push(await recordCluster(), await recordExpress(), await recordWrites());
    const writes = stacks.pop()!;
    for (const regime of REGIMES) {
      const perKind: Record<string, number> = {};
      costs.regimes[regime.name] = perKind;
      costs.check[regime.name] = {};
      for (const on of stacks) {
        const counts = countKinds(on.recording);
        const kinds = [...counts.keys()].filter((kind) => kind !== 'other').sort();
        const subscribers = on.stack === 'cluster' ? 4 : 0;
        for (const kind of kinds) {
          // a looping replay of saves measures their refusing path: kept to check the mix
          const name = kind === 'update' ? `update-refused@${subscribers}` : kind;
          const { usPerUnit, busy } = await cost(
            on,
            only(on.recording, (k) => k === kind, subscribers),
            regime,
            seconds,
          );
          perKind[name] = usPerUnit;
          busiest.push(busy);
          rows.push(
            `| ${regime.name} | ${on.stack} | ${kind === 'update' ? 'update, refused (looping replay)' : kind} | ${usPerUnit.toFixed(2)} | ${(busy * 100).toFixed(0)} % |`,
          );
        }
        if (on.stack === 'cluster') {
          for (const fanOut of FAN_OUT) {
            const { usPerUnit, busy, wrote } = await writingCost(writes, regime, fanOut, seconds);
            perKind[`update@${fanOut}`] = usPerUnit;
            busiest.push(busy);
            rows.push(
              `| ${regime.name} | cluster | update, ${fanOut} subscriber${fanOut > 1 ? 's' : ''} (${Math.round(wrote * 100)} % of those sent wrote) | ${usPerUnit.toFixed(2)} | ${(busy * 100).toFixed(0)} % |`,
            );
          }
        }
        const mix = only(on.recording, (kind) => kind !== 'other', subscribers);
        const { usPerUnit: measured, busy } = await cost(on, mix, regime, seconds);
        const total = kinds.reduce((sum, kind) => sum + counts.get(kind)!, 0);
        const predicted = kinds.reduce(
          (sum, kind) =>
            sum +
            (counts.get(kind)! / total) *
              perKind[kind === 'update' ? `update-refused@${subscribers}` : kind],
          0,
        );
        costs.check[regime.name][on.stack] = { measured, predicted };
        busiest.push(busy);
        rows.push(
          `| ${regime.name} | ${on.stack} | the whole recording (${kinds.map((kind) => `${kind} ${Math.round((100 * counts.get(kind)!) / total)} %`).join(', ')}) | ${measured.toFixed(2)} (kinds summed: ${predicted.toFixed(2)}, ${((predicted / measured - 1) * 100).toFixed(0)} %) | ${(busy * 100).toFixed(0)} % |`,
        );
      }
    }
  } finally {
    for (const on of stacks) {
      await on.redis.dispose();
    }
    pin(process.pid, 'all');
  }
  return {
    lines: [
      `Redis CPU per command by kind at saturation: each kind of a recording replayed alone by the C driver${pinned ? ' on CPU 0' : ''} ` +
        `against one redis-server${pinned ? ' alone on CPU 1' : ''}, ${seconds} s after ${DRIVER_WARMUP_SECONDS} s, ` +
        `dataset restored first, each figure the least of ${REPEATS} replays; the update script with 1 to ${FAN_OUT[FAN_OUT.length - 1]} subscribers draining its messages, ` +
        `the other scripts with 4; Redis busy ${(Math.min(...busiest) * 100).toFixed(0)}–${(Math.max(...busiest) * 100).toFixed(0)} %`,
      '',
      '| regime | stack | kind | Redis µs per command | Redis busy |',
      '|---|---|---|---|---|',
      ...rows,
    ],
    costs,
  };
}
