import type { Redis } from 'ioredis';
import { RedisServer } from '../../sample/support/redis-server';
import { distScript, SampleProcess } from '../../sample/support/sample-process';

const SECRET = 'migration-secret-of-at-least-32-characters';

/** A browser's cookie jar: every cookie by name, as a browser keeps them. */
class Browser {
  readonly cookies = new Map<string, string>();

  async request(url: string, method = 'GET', body?: unknown) {
    const response = await fetch(url, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const setCookies = response.headers.getSetCookie();
    for (const header of setCookies) {
      const [pair] = header.split(';');
      const at = pair.indexOf('=');
      this.cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    const text = await response.text();
    return { status: response.status, setCookies, json: text ? JSON.parse(text) : undefined };
  }
}

/**
 * Switching from express-session + connect-redis without logging anyone out (`migrateFrom`):
 * real express-session + connect-redis issue the sessions (the benchmark's peer app), then two
 * processes of the same app on this module take them over.
 */
describe('migrating from express-session + connect-redis', () => {
  let redis: RedisServer;
  let client: Redis;
  let old: SampleProcess;
  let a: SampleProcess;
  let b: SampleProcess;

  beforeAll(async () => {
    redis = await RedisServer.start();
    client = redis.client();
    const peer = (env: Record<string, string>) =>
      SampleProcess.start(
        { REDIS_URL: redis.url, SESSION_SECRET: SECRET, ...env },
        { ready: 'listening', script: distScript('bench', 'peers', 'peer.main.js') },
      );
    [old, a, b] = await Promise.all([
      peer({ STACK: 'express-session' }),
      peer({ STACK: 'cluster-session', MIGRATE_FROM: '1' }),
      peer({ STACK: 'cluster-session', MIGRATE_FROM: '1' }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([old?.stop(), a?.stop(), b?.stop()]);
    client.disconnect();
    await redis.dispose();
  });

  async function signedInOnExpressSession(username: string): Promise<Browser> {
    const browser = new Browser();
    await browser.request(`${old.url}/login`, 'POST', { username });
    await browser.request(`${old.url}/visit`, 'POST');
    expect((await browser.request(`${old.url}/me`)).json).toMatchObject({ username, visits: 1 });
    expect(browser.cookies.has('connect.sid')).toBe(true);
    return browser;
  }

  it('a signed-in user stays signed in: the session moves once, and every node serves it', async () => {
    const browser = await signedInOnExpressSession('ann');
    const legacyId = decodeURIComponent(browser.cookies.get('connect.sid')!).slice(2).split('.')[0];
    expect(JSON.parse((await client.get(`sess:${legacyId}`))!)).toMatchObject({ username: 'ann' });

    const first = await browser.request(`${a.url}/me`);
    expect(first.json).toMatchObject({ username: 'ann', visits: 1 });
    expect(first.setCookies.some((header) => header.startsWith('sid='))).toBe(true);
    // the old value names the new session, and is still express-session's JSON, TTL kept
    const moved = JSON.parse((await client.get(`sess:${legacyId}`))!);
    expect(moved).toMatchObject({ username: 'ann', __clusterSession: expect.any(String) });
    expect(await client.ttl(`sess:${legacyId}`)).toBeGreaterThan(60);

    // from now on this module's cookie: writes on one node, reads on the other
    await browser.request(`${b.url}/visit`, 'POST');
    expect((await browser.request(`${a.url}/me`)).json).toMatchObject({
      username: 'ann',
      visits: 2,
    });
    const ours = (await client.keys('sess:{*')).filter((key) => !key.includes('user:'));
    expect(ours).toHaveLength(1);
  });

  it('two nodes taking over one session at once end with one session', async () => {
    for (let round = 0; round < 5; round++) {
      const browser = await signedInOnExpressSession(`racer-${round}`);
      const before = new Set(await client.keys('sess:{*'));
      const tabA = new Browser();
      const tabB = new Browser();
      for (const tab of [tabA, tabB]) {
        tab.cookies.set('connect.sid', browser.cookies.get('connect.sid')!);
      }
      const [onA, onB] = await Promise.all([
        tabA.request(`${a.url}/me`),
        tabB.request(`${b.url}/me`),
      ]);
      expect(onA.json).toMatchObject({ username: `racer-${round}` });
      expect(onB.json).toMatchObject({ username: `racer-${round}` });
      // (the loser's destroy leaves a short-lived record, `<key>:destroyed`: no session)
      const created = (await client.keys('sess:{*')).filter(
        (key) => !before.has(key) && !key.endsWith(':destroyed'),
      );
      expect(created).toHaveLength(1);
      const idOf = (tab: Browser) => decodeURIComponent(tab.cookies.get('sid')!).split(/[:.]/)[0];
      expect(idOf(tabA)).toBe(idOf(tabB));
    }
  });

  it('a rolling deploy: a node still on express-session keeps serving a session a new node took over', async () => {
    const browser = await signedInOnExpressSession('rolling');
    expect((await browser.request(`${a.url}/me`)).json).toMatchObject({ username: 'rolling' });
    // the browser now holds both cookies; the old node reads its own, and answers
    const onOld = await browser.request(`${old.url}/me`);
    expect(onOld.status).toBe(200);
    expect(onOld.json).toMatchObject({ username: 'rolling' });
    expect((await browser.request(`${old.url}/visit`, 'POST')).status).toBe(200);
    // and the new nodes still serve the moved session
    expect((await browser.request(`${b.url}/me`)).json).toMatchObject({ username: 'rolling' });
  });

  it('a forged, foreign or unknown express-session cookie is no session and moves nothing', async () => {
    const browser = new Browser();
    browser.cookies.set('connect.sid', 's%3Aforged.c2lnbmF0dXJl');
    expect((await browser.request(`${a.url}/me`)).status).toBe(401);
    const unknown = await signedInOnExpressSession('gone');
    const legacyId = decodeURIComponent(unknown.cookies.get('connect.sid')!).slice(2).split('.')[0];
    await client.del(`sess:${legacyId}`);
    expect((await unknown.request(`${b.url}/me`)).status).toBe(401);
  });
});
