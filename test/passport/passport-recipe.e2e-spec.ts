import { HttpClient } from '../http/support/http-client';
import { RedisServer } from '../../sample/support/redis-server';
import { distScript, SampleProcess } from '../../sample/support/sample-process';
import { waitFor } from '../../sample/support/wait-for';

const SECRET = 'passport-recipe-secret-of-at-least-32-chars';
const ALICE = { username: 'alice', password: 'alice-password' };

/**
 * The README's Passport recipe (sample/passport: @nestjs/passport, passport-local, a
 * PassportSerializer, `passport.session()`, connect-flash and csrf-sync mounted in main.ts), run
 * as two Node processes sharing one Redis: what a user of express-session gets, on every node.
 */
describe('Passport, connect-flash and csrf-sync on two nodes', () => {
  let redis: RedisServer;
  let a: SampleProcess;
  let b: SampleProcess;

  beforeAll(async () => {
    redis = await RedisServer.start();
    const start = () =>
      SampleProcess.start(
        { REDIS_URL: redis.url, SESSION_SECRET: SECRET },
        { ready: 'listening', script: distScript('sample', 'passport', 'main.js') },
      );
    [a, b] = await Promise.all([start(), start()]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis.dispose();
  });

  /** A browser tab whose requests go to `a` or `b` by name. */
  function tab() {
    const client = new HttpClient('');
    const on = (node: SampleProcess) => ({
      get: (path: string, headers?: Record<string, string>) => client.get(node.url + path, headers),
      post: (path: string, body?: unknown, headers?: Record<string, string>) =>
        client.post(node.url + path, body, headers),
    });
    return { client, a: on(a), b: on(b) };
  }

  it('logs in on one node (a new session id), is recognised on the other, and logs out everywhere', async () => {
    const browser = tab();
    await browser.a.post('/flash'); // an anonymous session first
    const anonymous = browser.client.cookie!;

    expect((await browser.a.post('/login', { username: 'alice', password: 'wrong' })).status).toBe(
      401,
    );
    const login = await browser.a.post('/login', ALICE);
    expect(login.status).toBe(201);
    expect(login.json).toEqual({ username: 'alice' });
    expect(browser.client.cookie!.split('.')[0]).not.toBe(anonymous.split('.')[0]); // regenerated

    const profile = await browser.b.get('/profile');
    expect(profile.status).toBe(200);
    expect(profile.json.user).toEqual({ username: 'alice' });
    expect(profile.json.sessionID).toBe(browser.client.sessionId);
    const signedIn = browser.client.cookie!;

    expect((await browser.b.post('/logout')).json).toEqual({ ok: true });
    expect((await browser.a.get('/profile')).status).toBe(403);
    const stolen = tab(); // the cookie from before the logout no longer signs anyone in
    stolen.client.cookie = signedIn;
    expect((await stolen.b.get('/profile')).status).toBe(403); // G1: where it was logged out
    // G2: the other node, once the invalidation has reached it (under a millisecond, mostly)
    await waitFor(async () => (await stolen.a.get('/profile')).status === 403, {
      timeoutMs: 2_000,
      what: 'node a to drop the logged-out session',
    });
  });

  it('log out everywhere: destroyAllForUser on one node ends every session of the user on every node', async () => {
    const laptop = tab();
    const phone = tab();
    await laptop.a.post('/login', ALICE);
    await phone.b.post('/login', ALICE);
    const bob = tab();
    await bob.b.post('/login', { username: 'bob', password: 'bob-password' });
    for (const node of ['a', 'b'] as const) {
      expect((await phone[node].get('/profile')).status).toBe(200);
      expect((await laptop[node].get('/profile')).status).toBe(200);
    }

    expect((await laptop.b.post('/logout-all')).json).toEqual({ destroyed: 2 });
    for (const node of ['a', 'b'] as const) {
      expect((await phone[node].get('/profile')).status).toBe(403);
      expect((await laptop[node].get('/profile')).status).toBe(403);
      expect((await bob[node].get('/profile')).status).toBe(200);
    }
  });

  it('connect-flash: a message set on one node is read exactly once, on the other', async () => {
    const browser = tab();
    await browser.a.post('/flash');
    expect((await browser.b.get('/flash')).json).toEqual({ info: ['saved'] });
    expect((await browser.a.get('/flash')).json).toEqual({ info: [] });
    expect((await browser.b.get('/flash')).json).toEqual({ info: [] });
  });

  it('csrf-sync: the token stored in the session on one node is checked on the other', async () => {
    const browser = tab();
    const { token } = (await browser.a.get('/csrf-token')).json;
    expect((await browser.b.post('/transfer', {}, { 'x-csrf-token': 'forged' })).status).toBe(403);
    expect((await browser.b.post('/transfer', {}, { 'x-csrf-token': token })).status).toBe(201);
    const other = tab(); // another browser's token is worth nothing here
    const { token: foreign } = (await other.b.get('/csrf-token')).json;
    expect((await browser.a.post('/transfer', {}, { 'x-csrf-token': foreign })).status).toBe(403);
  });
});
