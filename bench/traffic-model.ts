/**
 * #28, part 1: real traffic as a model in virtual time. Users pause between page views (think
 * time, exponential), each page view fires a burst of API calls, each call goes to a node (at
 * random, or always the user's own with cookie affinity) and writes with some probability. Each
 * node's local cache behaves as the module's does: an entry lives `localCacheTtl` from its fill
 * (an applied update does not extend it, G8), the least recently used goes past
 * `localCacheMaxSize`; a write refills the writer's copy and, with `'update'`, brings every other
 * copy of the version before up to date, or with `'invalidate'` drops them; a node touches a
 * session in Redis when its last save or touch it knows of is `touchAfter` old.
 *
 * Virtual time: no Redis, no sleeping, so populations of a million sessions and a hundred nodes
 * run in seconds. What it gives per case: the local-cache hit rate, the Redis commands per
 * request by kind, the messages each node receives per second, and entries held per node. The
 * real-Redis runs (time-scaled) check it at the sizes they can reach; Redis capacity per request
 * follows from the commands by kind and each kind's cost on a saturated Redis core.
 */

export interface TrafficCase {
  users: number;
  nodes: number;
  /** Mean think time between page views, ms (exponential). */
  thinkMs: number;
  /** API calls per page view, fired within `burstMs`. */
  burst: number;
  burstMs: number;
  /** Share of calls that write the session. */
  writeShare: number;
  routing: 'random' | 'affinity';
  propagation: 'update' | 'invalidate';
  localCacheTtl: number;
  localCacheMaxSize: number;
  touchAfter: number;
  /** Virtual time simulated, ms; the first `warmupMs` of it are not counted. */
  durationMs: number;
  warmupMs: number;
  seed?: number;
}

/**
 * The traffic every table starts from: users 10 s apart (exponential) whose page views fire 4
 * calls within 1 s, 10 % of them writes, over 4 nodes at random, with the module's defaults
 * (30 s cache lifetime, touchAfter 60 s); 10 minutes, the first 3 not counted.
 */
export const TYPICAL_TRAFFIC: Omit<TrafficCase, 'users' | 'localCacheMaxSize'> = {
  nodes: 4,
  thinkMs: 10_000,
  burst: 4,
  burstMs: 1_000,
  writeShare: 0.1,
  routing: 'random',
  propagation: 'update',
  localCacheTtl: 30_000,
  touchAfter: 60_000,
  durationMs: 600_000,
  warmupMs: 180_000,
};

export interface TrafficResult {
  requests: number;
  hitRate: number;
  /** Redis commands per request, by kind. */
  perRequest: { reads: number; updates: number; touches: number; total: number };
  /** Pub/Sub messages each node receives per second (every write of the fleet reaches it). */
  messagesPerNodePerSecond: number;
  /** Requests per second the fleet serves (virtual time). */
  requestsPerSecond: number;
  /** Mean entries in a node's cache at the end. */
  entriesPerNode: number;
}

/** One cached copy: when it was filled, the version it holds, the last touch it knows of. */
interface Entry {
  filledAt: number;
  version: number;
  touchedAt: number;
}

/** xorshift32: a fixed seed gives the same run every time. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4_294_967_296;
  };
}

/** A binary heap of pending page views: [time, user]. */
class Agenda {
  private readonly times: number[] = [];
  private readonly users: number[] = [];

  get size(): number {
    return this.times.length;
  }

  push(time: number, user: number): void {
    let i = this.times.length;
    this.times.push(time);
    this.users.push(user);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.times[parent] <= time) {
        break;
      }
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): [number, number] {
    const top: [number, number] = [this.times[0], this.users[0]];
    const lastTime = this.times.pop()!;
    const lastUser = this.users.pop()!;
    if (this.times.length > 0) {
      this.times[0] = lastTime;
      this.users[0] = lastUser;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < this.times.length && this.times[left] < this.times[least]) {
          least = left;
        }
        if (right < this.times.length && this.times[right] < this.times[least]) {
          least = right;
        }
        if (least === i) {
          break;
        }
        this.swap(i, least);
        i = least;
      }
    }
    return top;
  }

  private swap(a: number, b: number): void {
    [this.times[a], this.times[b]] = [this.times[b], this.times[a]];
    [this.users[a], this.users[b]] = [this.users[b], this.users[a]];
  }
}

export function simulateTraffic(c: TrafficCase): TrafficResult {
  const next = random(c.seed ?? 27);
  const exponential = (mean: number) => -mean * Math.log(1 - next());
  // a Map keeps insertion order: delete and set again on use makes it an LRU
  const caches = Array.from({ length: c.nodes }, () => new Map<number, Entry>());
  const version = new Uint32Array(c.users);
  const touched = new Float64Array(c.users); // the last save or touch, in Redis
  const home = Uint16Array.from({ length: c.users }, () => Math.floor(next() * c.nodes));
  const agenda = new Agenda();
  for (let user = 0; user < c.users; user++) {
    agenda.push(exponential(c.thinkMs), user);
  }
  let requests = 0;
  let hits = 0;
  let reads = 0;
  let updates = 0;
  let touches = 0;
  let writes = 0;

  const fill = (cache: Map<number, Entry>, user: number, entry: Entry) => {
    cache.delete(user);
    cache.set(user, entry);
    if (cache.size > c.localCacheMaxSize) {
      cache.delete(cache.keys().next().value!);
    }
  };

  const call = (now: number, user: number, counted: boolean) => {
    const node = c.routing === 'affinity' ? home[user] : Math.floor(next() * c.nodes);
    const cache = caches[node];
    let entry = cache.get(user);
    if (entry && now - entry.filledAt < c.localCacheTtl && entry.version === version[user]) {
      fill(cache, user, entry); // LRU: most recently used
      hits += counted ? 1 : 0;
    } else {
      entry = { filledAt: now, version: version[user], touchedAt: touched[user] };
      fill(cache, user, entry);
      reads += counted ? 1 : 0;
    }
    if (next() < c.writeShare) {
      version[user]++;
      touched[user] = now;
      updates += counted ? 1 : 0;
      writes += counted ? 1 : 0;
      fill(cache, user, { filledAt: now, version: version[user], touchedAt: now });
      for (const [other, otherCache] of caches.entries()) {
        const copy = other === node ? undefined : otherCache.get(user);
        if (!copy) {
          continue;
        }
        if (c.propagation === 'update' && copy.version === version[user] - 1) {
          copy.version = version[user]; // applied in place: its lifetime is the first fill's
          copy.touchedAt = now;
        } else {
          otherCache.delete(user);
        }
      }
    } else if (now - entry.touchedAt >= c.touchAfter) {
      // the node knows of no save or touch within touchAfter: it touches (Redis may know better)
      touched[user] = now;
      entry.touchedAt = now;
      touches += counted ? 1 : 0;
    }
    requests += counted ? 1 : 0;
  };

  while (agenda.size > 0) {
    const [now, user] = agenda.pop();
    if (now > c.durationMs) {
      break;
    }
    const counted = now >= c.warmupMs;
    for (let i = 0; i < c.burst; i++) {
      call(now + (c.burst > 1 ? (i / (c.burst - 1)) * c.burstMs : 0), user, counted);
    }
    agenda.push(now + c.burstMs + exponential(c.thinkMs), user);
  }
  const seconds = (c.durationMs - c.warmupMs) / 1_000;
  const per = (n: number) => (requests === 0 ? 0 : n / requests);
  return {
    requests,
    hitRate: per(hits),
    perRequest: {
      reads: per(reads),
      updates: per(updates),
      touches: per(touches),
      total: per(reads + updates + touches),
    },
    messagesPerNodePerSecond: writes / seconds,
    requestsPerSecond: requests / seconds,
    entriesPerNode: caches.reduce((sum, cache) => sum + cache.size, 0) / c.nodes,
  };
}
