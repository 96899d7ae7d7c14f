import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { HttpClient } from '../http/support/http-client';
import { RedisServer } from '../../sample/support/redis-server';
import { distScript, SampleProcess } from '../../sample/support/sample-process';
import { waitFor } from '../../sample/support/wait-for';
import { startNode } from '../support/cluster-fixture';

const SECRET = 'passport-limit-secret-of-at-least-32-chars';
const ALICE = { username: 'alice', password: 'alice-password' };
const LIMIT = 2;

/**
 * #27 item 3 through Passport (the README's recipe, sample/passport) on two Node processes:
 * `maxSessionsPerUser` holds under logins racing on both nodes, and a refused login is a 409
 * that leaves nothing signed in.
 */
describe.each(['end-oldest', 'refuse'] as const)(
  'maxSessionsPerUser { limit: 2, onExceed: %s } with Passport on two processes',
  (onExceed) => {
    let redis: RedisServer;
    let nodes: SampleProcess[];
    let store: ClusterSessionRuntime; // reads Redis as a third node would

    beforeAll(async () => {
      redis = await RedisServer.start();
      nodes = await Promise.all(
        [1, 2].map(() =>
          SampleProcess.start(
            {
              REDIS_URL: redis.url,
              SESSION_SECRET: SECRET,
              SESSIONS_PER_USER: String(LIMIT),
              SESSIONS_ON_EXCEED: onExceed,
            },
            { ready: 'listening', script: distScript('sample', 'passport', 'main.js') },
          ),
        ),
      );
      store = await startNode(redis.url, { secret: SECRET, cluster: { enabled: false } });
    }, 60_000);

    afterAll(async () => {
      await Promise.all([...nodes.map((node) => node.stop()), store?.stop()]);
      await redis.dispose();
    });

    async function signedIn(browser: HttpClient): Promise<boolean> {
      return (await browser.get('/profile')).status === 200;
    }

    it('racing logins on both nodes never leave more than the limit signed in', async () => {
      for (let round = 0; round < 3; round++) {
        await store.store.destroyAllForUser('alice');
        const browsers = Array.from({ length: 6 }, (_, i) => new HttpClient(nodes[i % 2].url));
        const logins = await Promise.all(
          browsers.map((browser, i) =>
            browser.post('/login', ALICE, { 'user-agent': `device-${i}` }),
          ),
        );
        for (const login of logins) {
          // 'refuse': a login past the limit is a 409; 'end-oldest': every login is let in
          expect(onExceed === 'refuse' ? [201, 409] : [201]).toContain(login.status);
        }
        // the browsers still signed in, asked on the other node than the one they logged in on
        const still: number[] = [];
        for (const [i, browser] of browsers.entries()) {
          const other = new HttpClient(nodes[(i + 1) % 2].url);
          other.cookie = browser.cookie;
          if (await signedIn(other)) {
            still.push(i);
          }
        }
        expect(still.length).toBeLessThanOrEqual(LIMIT);
        expect(still.length).toBeGreaterThanOrEqual(1);
        // what the store lists is exactly those, each with the device it logged in from
        const listed = await store.store.sessionsForUser('alice');
        expect(listed.map((info) => info.client?.userAgent).sort()).toEqual(
          still.map((i) => `device-${i}`).sort(),
        );
        // a refused login left its browser signed out
        for (const [i, login] of logins.entries()) {
          if (login.status === 409) {
            expect(login.json).toMatchObject({ statusCode: 409, error: 'TooManySessions' });
            expect(still).not.toContain(i);
          }
        }
      }
    }, 60_000);

    it('one more login past the limit: the oldest device is signed out, or the login refused', async () => {
      await store.store.destroyAllForUser('alice');
      const [first, second, third] = [0, 1, 0].map((n) => new HttpClient(nodes[n].url));
      expect((await first.post('/login', ALICE)).status).toBe(201);
      expect((await second.post('/login', ALICE)).status).toBe(201);
      const later = Date.now() + 3;
      await waitFor(() => Date.now() >= later, { what: 'a later millisecond' });
      // first is used again (a save): second is now the least recently active
      expect((await first.post('/flash')).status).toBe(201);
      const login = await third.post('/login', ALICE);
      if (onExceed === 'refuse') {
        expect(login.status).toBe(409);
        expect(await signedIn(third)).toBe(false);
        expect([await signedIn(first), await signedIn(second)]).toEqual([true, true]);
      } else {
        expect(login.status).toBe(201);
        expect([await signedIn(first), await signedIn(second), await signedIn(third)]).toEqual([
          true,
          false,
          true,
        ]);
      }
    }, 60_000);
  },
);
