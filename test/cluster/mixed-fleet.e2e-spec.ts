import { sign } from 'cookie-signature';
import type { Redis } from 'ioredis';
import { HttpClient, sessionIdOf } from '../http/support/http-client';
import { RedisServer } from '../../sample/support/redis-server';
import { SampleProcess } from '../../sample/support/sample-process';
import { waitFor } from '../../sample/support/wait-for';

const OLD = 'the-old-secret-of-at-least-32-characters';
const NEW = 'the-new-secret-of-at-least-32-characters';

/**
 * G12 on real processes: one Redis, sample nodes running two configurations at once, as during
 * a rolling deploy. Secrets rotating in the README's order (old; old+new; new+old; new), the
 * idle timeout changed on some nodes, `migrateFrom` on some nodes.
 */
describe('G12: a fleet running two configurations at once', () => {
  let server: RedisServer;
  let redis: Redis;
  const nodes: Record<string, SampleProcess> = {};
  const configs: Record<string, Record<string, string>> = {
    // the rotation's four steps
    old: { SESSION_SECRET: OLD },
    oldNew: { SESSION_SECRET: `${OLD},${NEW}` },
    newOld: { SESSION_SECRET: `${NEW},${OLD}` },
    new: { SESSION_SECRET: NEW },
    // the idle timeout changed on half the fleet: an hour here, 2 s there
    long: { SESSION_SECRET: OLD, SESSION_TTL: '3600000' },
    short: { SESSION_SECRET: OLD, SESSION_TTL: '2000' },
    // migrateFrom on half the fleet
    migrating: { SESSION_SECRET: OLD, SESSION_MIGRATE_FROM: '1' },
    plain: { SESSION_SECRET: OLD },
  };

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = server.client();
    await Promise.all(
      Object.entries(configs).map(async ([name, env]) => {
        nodes[name] = await SampleProcess.start({ REDIS_URL: server.url, NODE_ID: name, ...env });
      }),
    );
  }, 90_000);

  afterAll(async () => {
    await Promise.all(Object.values(nodes).map((node) => node.stop()));
    redis?.disconnect();
    await server?.dispose();
  });

  let users = 0;
  const on = (node: string, cookie?: string) =>
    Object.assign(new HttpClient(nodes[node].url), { cookie });
  const health = async (node: string) =>
    (await (await fetch(`${nodes[node].url}/health`)).json()) as {
      details: { session: { cacheTrusted: boolean; unverifiedMessages?: number } };
    };

  describe.each([
    ['old', 'oldNew'],
    ['oldNew', 'newOld'],
    ['newOld', 'new'],
  ])('secrets rotating in order: nodes on step %s and step %s', (first, second) => {
    it('a user going back and forth is never refused', async () => {
      const username = `rotating${++users}`;
      const browser = on(first);
      expect((await browser.post('/login', { username })).status).toBe(200);
      for (let i = 0; i < 3; i++) {
        for (const node of [second, first]) {
          const me = await on(node, browser.cookie).get('/me');
          expect({ node, status: me.status }).toEqual({ node, status: 200 });
          const visit = on(node, browser.cookie);
          expect((await visit.post('/visit')).status).toBe(200);
          browser.cookie = visit.cookie; // re-signed with the node's first secret
        }
      }
    });

    it('"log out everywhere" on either node ends the session on the other at once', async () => {
      for (const [ending, other] of [
        [second, first],
        [first, second],
      ]) {
        await loggedOutEverywhere(ending, other);
      }
    });
  });

  it('rotated out of order (old, then new+old): every message is still verified both ways', async () => {
    // (the fleet shares one channel: "old" cannot verify what the "new" node writes)
    const unverified = async () => (await health('old')).details.session.unverifiedMessages ?? 0;
    const before = await unverified();
    for (const [ending, other] of [
      ['newOld', 'old'],
      ['old', 'newOld'],
    ]) {
      await loggedOutEverywhere(ending, other);
    }
    expect(await unverified()).toBe(before);
  });

  it('a node that cannot verify another node (secrets not shared) says so, and serves nothing stale from its cache', async () => {
    const username = `unverified${++users}`;
    const laptop = on('old');
    expect((await laptop.post('/login', { username })).status).toBe(200);
    expect((await laptop.get('/me')).status).toBe(200); // cached on "old"
    const before = (await health('old')).details.session.unverifiedMessages ?? 0;
    // "log out everywhere" on a node with only the new secret: messages "old" cannot verify
    const phone = on('new');
    expect((await phone.post('/login', { username })).status).toBe(200);
    expect((await phone.post('/logout-all')).json).toEqual({ destroyed: 2 });
    // "old" cannot apply them, so it drops its copies and reads Redis: the session is gone at once
    await waitFor(async () => (await laptop.get('/me')).status === 401, {
      timeoutMs: 3_000,
      what: '"old" to stop serving the session',
    });
    const { session } = (await health('old')).details;
    expect(session.unverifiedMessages).toBeGreaterThan(before);
  });

  it('a forged message claiming to be from this app is counted (and drops the cache, as one the node cannot verify)', async () => {
    const { createHash } = await import('node:crypto');
    const tag = createHash('sha256')
      .update(JSON.stringify(['fleet', 'session:cluster:invalidate', 'sess:']))
      .digest('hex')
      .slice(0, 8);
    const before = (await health('plain')).details.session.unverifiedMessages ?? 0;
    await redis.publish(
      'session:cluster:invalidate',
      `ncs3|d|x|0|attacker\nFAKE LOG LINE|${'0'.repeat(16)}${tag}|1|0||${'0'.repeat(32)}`,
    );
    await waitFor(
      async () => ((await health('plain')).details.session.unverifiedMessages ?? 0) > before,
      { what: 'the forged message to be counted' },
    );
    expect(nodes.plain.output).not.toMatch(/FAKE LOG LINE/); // (see claimedOrigin)
  });

  it('the idle timeout changed on half the fleet: no node serves a session Redis has let expire (G7)', async () => {
    const username = `ttl${++users}`;
    const browser = on('long');
    expect((await browser.post('/login', { username })).status).toBe(200);
    const key = await sessionKey(browser.cookie!);
    expect((await browser.get('/me')).status).toBe(200); // cached on "long" for an hour's session
    // past touchAfter (1 s on the short node), a request on the short node touches it
    const loggedInAt = Date.now();
    await waitFor(async () => Date.now() - loggedInAt > 1_100, { what: 'touchAfter to pass' });
    expect((await on('short', browser.cookie).get('/me')).status).toBe(200);
    // for longer than the short timeout: whatever "long" serves, Redis still has
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      const me = await on('long', browser.cookie).get('/me');
      const exists = await redis.exists(key);
      expect({ served: me.status, inRedis: exists }).not.toEqual({ served: 200, inRedis: 0 });
    }
  });

  it('migrateFrom on half the fleet: the others never fail on connect-redis sessions, and "log out everywhere" reaches them', async () => {
    const username = `legacy${++users}`;
    const legacy = async () => {
      const id = `legacy-${username}-${Math.random().toString(36).slice(2)}`;
      const value = JSON.stringify({
        cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' },
        passport: { user: username },
        username,
      });
      await redis.set(`sess:${id}`, value, 'EX', 3600);
      return `connect.sid=${encodeURIComponent(`s:${sign(id, OLD)}`)}`;
    };
    const laptop = await legacy();
    const phone = await legacy();
    // a node without migrateFrom: no session (not an error)
    expect((await on('plain', laptop).get('/me')).status).toBe(401);
    // a node with it: moved in
    const moved = on('migrating', laptop);
    expect((await moved.get('/me')).json).toMatchObject({ username });
    const ours = moved.cookie!;
    expect(ours).toMatch(/^sid=/);
    expect((await on('plain', ours).get('/me')).json).toMatchObject({ username });
    // "log out everywhere" on the node without migrateFrom reaches the phone not yet migrated
    expect((await on('plain', ours).post('/logout-all')).json).toEqual({ destroyed: 1 });
    expect((await on('migrating', phone).get('/me')).status).toBe(401);
    expect((await on('migrating', ours).get('/me')).status).toBe(401);
  });

  /**
   * A user signed in on `other` (cached there) and on `ending`, logged out everywhere on
   * `ending`: `other` drops the session well before its cache lifetime (30 s; 3 s allows for a
   * loaded machine), so it verified and applied the message.
   */
  async function loggedOutEverywhere(ending: string, other: string): Promise<void> {
    const username = `everywhere${++users}`;
    const laptop = on(other);
    expect((await laptop.post('/login', { username })).status).toBe(200);
    expect((await laptop.get('/me')).status).toBe(200); // cached on `other`
    const phone = on(ending);
    expect((await phone.post('/login', { username })).status).toBe(200);
    expect((await phone.post('/logout-all')).json).toEqual({ destroyed: 2 });
    await waitFor(async () => (await laptop.get('/me')).status === 401, {
      timeoutMs: 3_000,
      what: `${other} to drop the session ended on ${ending}`,
    });
  }

  async function sessionKey(cookie: string): Promise<string> {
    const id = sessionIdOf(cookie);
    return `sess:{${id.slice(0, 4)}}${id}`;
  }
});
