import { HttpClient } from '../http/support/http-client';
import { RedisServer } from '../../sample/support/redis-server';
import { SampleProcess } from '../../sample/support/sample-process';
import { waitFor } from '../../sample/support/wait-for';

const SECRET = 'soak-secret-of-at-least-32-characters!!';
const USERS = 18;

/**
 * The fault soak: three sample processes on one Redis under steady load while Redis is restarted
 * twice and the Pub/Sub connections are killed five times. Redis keeps an append-only file
 * fsynced on every write, so a restart loses nothing that was acknowledged. An outage lasts from
 * the restart until every node has acknowledged a write again: each node's connection reconnects
 * on its own backoff (up to a second apart), so the others recovering proves nothing about it.
 */
describe('fault soak: three sample processes, Redis restarts and Pub/Sub kills under load', () => {
  let redis: RedisServer;
  let nodes: SampleProcess[];

  beforeAll(async () => {
    redis = await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    nodes = await Promise.all(
      [1, 2, 3].map((i) =>
        SampleProcess.start({ REDIS_URL: redis.url, SESSION_SECRET: SECRET, NODE_ID: `soak${i}` }),
      ),
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all((nodes ?? []).map((node) => node.stop()));
    await redis?.dispose();
  });

  it('fails only with 503 during outages, loses no acknowledged write, serves nothing stale', async () => {
    interface User {
      cookie?: string;
      acked: number; // visits of the last acknowledged POST /visit
    }
    const users: User[] = [];
    for (let i = 0; i < USERS; i++) {
      const client = new HttpClient(nodes[i % 3].url);
      expect((await client.post('/login', { username: `soak-${i}` })).status).toBe(200);
      users.push({ cookie: client.cookie, acked: 0 });
    }

    const outages: { from: number; to: number }[] = [];
    const counts = {
      served: 0,
      failed: 0,
      failedOutsideOutage: 0,
      nonRetryable: 0,
      lost: 0,
      stale: 0,
    };
    const failures: { at: number; node: number; status: number }[] = [];
    const writesAcked = [0, 0, 0]; // per node
    let running = true;
    const request = async (user: User) => {
      const node = Math.floor(Math.random() * 3);
      const client = new HttpClient(nodes[node].url);
      client.cookie = user.cookie;
      const visit = Math.random() < 0.3;
      const known = user.acked;
      const response = visit ? await client.post('/visit') : await client.get('/me');
      if (response.status === 200) {
        counts.served++;
        const visits = response.json.visits as number;
        if (visit) {
          if (visits <= known) {
            counts.lost++; // the increment landed on an older state
          }
          user.acked = visits;
          writesAcked[node]++;
          user.cookie = client.cookie;
        } else if (visits < known) {
          counts.stale++;
        }
        return;
      }
      counts.failed++;
      failures.push({ at: Date.now(), node, status: response.status });
      if (response.status !== 503 || !response.headers.get('retry-after')) {
        counts.nonRetryable++;
      }
      if (response.status === 401) {
        counts.lost++; // the session itself is gone
      }
    };
    const load = users.map(async (user) => {
      while (running) {
        await request(user).catch(() => counts.nonRetryable++);
      }
    });

    const servedAfter = (n: number) => {
      const target = counts.served + n;
      return waitFor(() => counts.served >= target, {
        timeoutMs: 30_000,
        what: `${n} requests served`,
      });
    };
    const subscribers = async () =>
      String(await redis.command('CLIENT', 'LIST', 'TYPE', 'pubsub'))
        .split('\n')
        .filter((line) => line.trim()).length;
    const killPubSub = async () => {
      await waitFor(async () => (await subscribers()) === 3, { what: 'three subscribers' });
      expect(await redis.killPubSubClients()).toBe(3);
      await servedAfter(300);
    };
    const restartRedis = async () => {
      const from = Date.now();
      await redis.restart(); // SIGKILL, then start again from the append-only file
      const acked = [...writesAcked];
      await waitFor(() => writesAcked.every((count, node) => count > acked[node]), {
        timeoutMs: 30_000,
        what: 'a write acknowledged by every node',
      });
      outages.push({ from, to: Date.now() });
      await servedAfter(300);
    };

    await servedAfter(200);
    await killPubSub();
    await restartRedis();
    await killPubSub();
    await killPubSub();
    await restartRedis();
    await killPubSub();
    await killPubSub();
    running = false;
    await Promise.all(load);

    const outside = failures.filter(
      ({ at }) => !outages.some(({ from, to }) => at >= from && at <= to),
    );
    counts.failedOutsideOutage = outside.length;
    // every node, resubscribed, serves at least what was acknowledged
    for (const user of users) {
      for (const node of nodes) {
        const client = new HttpClient(node.url);
        client.cookie = user.cookie;
        const me = await client.get('/me');
        expect(me.status).toBe(200);
        expect(me.json.visits).toBeGreaterThanOrEqual(user.acked);
      }
    }
    console.log(
      `fault soak: ${JSON.stringify(counts)}, outages ${outages.map((o) => `${o.to - o.from} ms`).join(', ')}`,
    );
    if (outside.length > 0) {
      const start = outages[0].from;
      console.log(
        `failures outside the outages (ms from the first restart, node, status): ${outside
          .map(({ at, node, status }) => `${at - start} ${node} ${status}`)
          .join(
            '; ',
          )}; outages ${outages.map(({ from, to }) => `${from - start}..${to - start}`).join(', ')}`,
      );
    }
    expect(counts.nonRetryable).toBe(0);
    expect(counts.failedOutsideOutage).toBe(0);
    expect(counts.lost).toBe(0);
    expect(counts.stale).toBe(0);
  });
});
