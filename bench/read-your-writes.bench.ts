import { sign } from 'cookie-signature';
import { HttpClient } from '../test/http/support/http-client';
import { RedisServer } from '../sample/support/redis-server';
import { SampleProcess } from '../sample/support/sample-process';
import { TcpProxy } from '../test/support/tcp-proxy';
import { commandStats } from './support/redis-commands';

const SECRET = 'bench-secret-that-is-at-least-32-characters';
const ROUNDS = 600;

interface Health {
  details: { session: { cache: { hits: number; misses: number } } };
}

/**
 * Issue 7's figures. Three sample processes; one client alternates a write on one node with
 * three reads spread over the nodes. Measured twice, with id-only cookies ("before" G9) and with
 * versioned cookies ("after"): requests, Redis scripts (EVAL + EVALSHA, `INFO commandstats`),
 * cache hit rate, and reads older than the client's own last write. Once with invalidations
 * arriving as fast as loopback allows, once with them delayed by 150 ms (a slow network).
 */
export async function readYourWritesBench(): Promise<string[]> {
  const lines = [
    'Read-your-writes across nodes (G9): three sample processes, 1 write + 3 reads per round',
  ];
  for (const delay of [0, 150]) {
    const results = [];
    for (const versioned of [false, true]) {
      const result = await measure(delay, versioned);
      results.push(result);
      lines.push(
        `  invalidations +${String(delay).padStart(3)} ms, ${versioned ? 'after (versioned cookie)' : 'before (id-only cookie)'}: ` +
          `${result.scriptsPerRequest.toFixed(3)} Redis scripts/request, hit rate ${(result.hitRate * 100).toFixed(1)} %, ` +
          `stale reads ${result.stale}/${result.reads}, cross-node writes ${result.crossNodeWrites}`,
      );
    }
    const [before, after] = results;
    const extra = (after.scriptsPerRequest - before.scriptsPerRequest) * after.requests;
    lines.push(
      `    extra Redis reads G9 caused: ${Math.round(extra)}, i.e. ${(extra / after.crossNodeWrites).toFixed(2)} per ` +
        `cross-node write, against ${before.stale} stale reads it prevented`,
    );
  }
  return lines;
}

async function measure(delayMs: number, versioned: boolean) {
  const redis = await RedisServer.start();
  const proxy = await TcpProxy.start(redis.port);
  proxy.subscriberDelayMs = delayMs;
  const nodes = await Promise.all(
    [1, 2, 3].map((i) =>
      SampleProcess.start({
        REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
        SESSION_SECRET: SECRET,
        NODE_ID: `b${i}`,
      }),
    ),
  );
  try {
    const clients = nodes.map((node) => new HttpClient(node.url));
    const adopt = (cookie: string | undefined) => {
      const value = cookie && !versioned ? idOnly(cookie) : cookie;
      for (const client of clients) {
        client.cookie = value;
      }
    };
    await clients[0].post('/login', { username: 'bench' });
    adopt(clients[0].cookie);
    const scriptsBefore = await scripts(redis);
    const statsBefore = await cacheTotals(nodes);
    let requests = 0;
    let stale = 0;
    let reads = 0;
    let crossNodeWrites = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const writer = round % 3;
      const { json } = await clients[writer].post('/visit');
      adopt(clients[writer].cookie);
      requests++;
      for (let r = 1; r <= 3; r++) {
        const reader = (writer + r) % 3;
        if (r === 1 && reader !== writer) {
          crossNodeWrites++;
        }
        const me = await clients[reader].get('/me');
        requests++;
        reads++;
        if (me.json.visits !== json.visits) {
          stale++;
        }
      }
    }
    const statsAfter = await cacheTotals(nodes);
    const hits = statsAfter.hits - statsBefore.hits;
    const lookups = hits + statsAfter.misses - statsBefore.misses;
    return {
      scriptsPerRequest: ((await scripts(redis)) - scriptsBefore) / requests,
      hitRate: lookups === 0 ? 0 : hits / lookups,
      stale,
      reads,
      requests,
      crossNodeWrites,
    };
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    await proxy.close();
    await redis.dispose();
  }
}

function idOnly(cookie: string): string {
  const [name, value] = cookie.split('=');
  const signed = decodeURIComponent(value);
  return `${name}=${encodeURIComponent(sign(signed.slice(0, signed.lastIndexOf('.')).split(':')[0], SECRET))}`;
}

async function scripts(redis: RedisServer): Promise<number> {
  const stats = await commandStats(redis);
  return (stats.get('eval')?.calls ?? 0) + (stats.get('evalsha')?.calls ?? 0);
}

async function cacheTotals(nodes: SampleProcess[]) {
  let hits = 0;
  let misses = 0;
  for (const node of nodes) {
    const { cache } = ((await (await fetch(`${node.url}/health`)).json()) as Health).details
      .session;
    hits += cache.hits;
    misses += cache.misses;
  }
  return { hits, misses };
}
