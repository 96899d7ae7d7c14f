import { sign } from 'cookie-signature';
import { HttpClient } from '../http/support/http-client';
import { RedisServer } from '../../sample/support/redis-server';
import { SampleProcess } from '../../sample/support/sample-process';
import { TcpProxy } from '../support/tcp-proxy';

const SECRET = 'g9-secret-that-is-at-least-32-characters';
const ROUNDS = 1_000;

/** The same cookie in the format from before versions: the id alone, signed. */
function withoutVersion(cookie: string): string {
  const [name, value] = cookie.split('=');
  const signed = decodeURIComponent(value);
  const id = signed.slice(0, signed.lastIndexOf('.')).split(':')[0];
  return `${name}=${encodeURIComponent(sign(id, SECRET))}`;
}

describe('G9: read-your-writes across nodes, with invalidations delayed by 150 ms', () => {
  let redis: RedisServer;
  let proxy: TcpProxy;
  let nodes: SampleProcess[];

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await TcpProxy.start(redis.port);
    proxy.subscriberDelayMs = 150; // below the 1 s heartbeat: the nodes keep trusting their caches
    const url = `redis://127.0.0.1:${proxy.port}`;
    nodes = await Promise.all(
      [1, 2, 3].map((i) =>
        SampleProcess.start({ REDIS_URL: url, SESSION_SECRET: SECRET, NODE_ID: `g${i}` }),
      ),
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await proxy.close();
    await redis.dispose();
  });

  /**
   * Writes on one node and reads at once on another, ROUNDS times; counts reads older than the
   * write. `killPubSubAt`: rounds before which every node's subscriber connection is killed.
   */
  async function run(
    legacyCookies: boolean,
    killPubSubAt: number[] = [],
  ): Promise<{ stale: number; reads: number }> {
    const clients = nodes.map((node) => new HttpClient(node.url));
    const setCookie = (cookie: string | undefined) => {
      for (const client of clients) {
        client.cookie = cookie && legacyCookies ? withoutVersion(cookie) : cookie;
      }
    };
    await clients[0].post('/login', { username: legacyCookies ? 'legacy' : 'versioned' });
    setCookie(clients[0].cookie);
    for (const client of clients) {
      expect((await client.get('/me')).status).toBe(200); // cached everywhere
    }
    let stale = 0;
    for (let round = 0; round < ROUNDS; round++) {
      if (killPubSubAt.includes(round)) {
        expect(await redis.killPubSubClients()).toBe(3);
      }
      const writer = round % 3;
      const reader = (writer + 1 + (round % 2)) % 3;
      const { json } = await clients[writer].post('/visit');
      setCookie(clients[writer].cookie);
      const me = await clients[reader].get('/me');
      expect(me.status).toBe(200);
      if (me.json.visits !== json.visits) {
        stale++;
      }
    }
    return { stale, reads: ROUNDS };
  }

  it('with the version in the cookie: no read is older than the client’s own last write, Pub/Sub killed twice', async () => {
    // 'update' propagation (the default): copies are updated in place between the kills
    expect(await run(false, [300, 700])).toEqual({ stale: 0, reads: ROUNDS });
  }, 60_000);

  it('the same run with cookies from before versions shows stale reads (the test can fail)', async () => {
    const { stale } = await run(true);
    expect(stale).toBeGreaterThan(ROUNDS / 10);
  }, 60_000);

  it('a cookie ahead of Redis (a write lost in a failover) reads Redis: no error, no loop', async () => {
    const client = new HttpClient(nodes[0].url);
    await client.post('/login', { username: 'failover' });
    const [name, value] = client.cookie!.split('=');
    const id = decodeURIComponent(value).split(':')[0];
    client.cookie = `${name}=${encodeURIComponent(sign(`${id}:999`, SECRET))}`;
    for (const node of nodes) {
      const reader = new HttpClient(node.url);
      reader.cookie = client.cookie;
      const me = await reader.get('/me');
      expect(me.status).toBe(200);
      expect(me.json.username).toBe('failover');
    }
  });

  it('two tabs sharing a cookie: concurrent writes on different nodes both persist, and reads stay correct', async () => {
    const tab1 = new HttpClient(nodes[0].url);
    await tab1.post('/login', { username: 'tabs' });
    const tab2 = new HttpClient(nodes[1].url);
    tab2.cookie = tab1.cookie;
    const [a, b] = await Promise.all([
      tab1.request('PATCH', '/me', { fromTab1: true }),
      tab2.request('PATCH', '/me', { fromTab2: true }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const reader = new HttpClient(nodes[2].url);
    reader.cookie = tab2.cookie;
    const me = await reader.get('/me');
    expect(me.json).toMatchObject({ username: 'tabs', fromTab2: true });
    reader.cookie = tab1.cookie;
    expect((await reader.get('/me')).json).toMatchObject({ username: 'tabs', fromTab1: true });
  });
});
