import type { INestApplication } from '@nestjs/common';
import { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { roundTrips } from '../support/cluster-fixture';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';
import { HttpClient } from './support/http-client';
import { createAppOnNewRedis, type Platform } from './support/test-app';

describe.each<Platform>(['express', 'fastify'])('HTTP sessions on %s', (platform) => {
  let server: RedisServer;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    ({ server, app, url } = await createAppOnNewRedis(platform));
  });

  afterAll(async () => {
    await app.close();
    await server.dispose();
  });

  const scripts = () => roundTrips(app.get(ClusterSessionRuntime));

  it('logs in, reads, updates, regenerates and logs out', async () => {
    const client = new HttpClient(url);
    const login = await client.post('/login', { username: 'ann' });
    expect(login.status).toBe(201);
    expect(login.setCookies).toHaveLength(1);
    expect(login.setCookies[0]).toMatch(/^sid=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);

    expect((await client.get('/me')).json).toEqual({ username: 'ann' });
    await client.post('/visit');
    expect((await client.post('/visit')).json).toEqual({ visits: 2 });
    await client.post('/cart', { item: 'book' });
    expect((await client.get('/cart')).json).toEqual({ cart: ['book'] });
    expect((await client.get('/common')).json).toEqual({ loaded: true, username: 'ann' });

    const before = client.cookie;
    expect((await client.post('/regenerate')).setCookies).toHaveLength(1);
    expect(client.cookie).not.toBe(before);
    expect((await client.get('/me')).json).toEqual({ username: 'ann', visits: 2, cart: ['book'] });
    const stolen = new HttpClient(url);
    stolen.cookie = before;
    expect((await stolen.get('/me')).status).toBe(401);

    const logout = await client.post('/logout');
    expect(logout.setCookies[0]).toMatch(
      /^sid=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax$/,
    );
    expect(client.cookie).toBeUndefined();
    expect((await client.get('/me')).status).toBe(401);
  });

  it('an untouched new session costs no Redis call and sets no cookie', async () => {
    const client = new HttpClient(url);
    const before = await scripts();
    const me = await client.get('/me');
    expect(me.status).toBe(401);
    expect(me.setCookies).toEqual([]);
    expect((await client.get('/ping')).setCookies).toEqual([]);
    expect(await scripts()).toBe(before);
  });

  it('a route that does not use the session costs no Redis call, even with a cookie', async () => {
    const client = new HttpClient(url);
    await client.post('/login', { username: 'lazy' });
    const before = await scripts();
    for (let i = 0; i < 5; i++) {
      expect((await client.get('/ping')).status).toBe(200);
    }
    expect(await scripts()).toBe(before);
  });

  it('a tampered, malformed or version-forged cookie is a fresh session: 401, not 500, and no Redis call', async () => {
    const client = new HttpClient(url);
    await client.post('/login', { username: 'eve' });
    const [name, value] = client.cookie!.split('=');
    const before = await scripts();
    const decoded = decodeURIComponent(value);
    expect(decoded).toMatch(/^[\w-]{43}:\d+\./); // id:version, signed
    const forgedVersion = encodeURIComponent(
      decoded.replace(/:(\d+)\./, (_, v) => `:${Number(v) + 5}.`),
    );
    for (const bad of [
      forgedVersion,
      `${value.slice(0, -3)}abc`,
      'garbage',
      '%zz',
      'x'.repeat(5_000),
      `s%3A${value}`,
    ]) {
      const tampered = new HttpClient(url);
      tampered.cookie = `${name}=${bad}`;
      expect((await tampered.get('/me')).status).toBe(401);
    }
    expect(await scripts()).toBe(before);
  });

  it("secure: 'auto' follows the protocol, including X-Forwarded-Proto behind a trusted proxy", async () => {
    const client = new HttpClient(url);
    const login = await client.post(
      '/login',
      { username: 'tls' },
      { 'x-forwarded-proto': 'https' },
    );
    expect(login.setCookies[0]).toMatch(/; Secure/);
    const plain = await new HttpClient(url).post('/login', { username: 'plain' });
    expect(plain.setCookies[0]).not.toMatch(/Secure/);
  });

  it('touches at most once per touchAfter, without rewriting the cookie', async () => {
    const client = new HttpClient(url);
    await client.post('/login', { username: 'toucher' });
    const before = await scripts();
    for (let i = 0; i < 5; i++) {
      expect((await client.get('/me')).setCookies).toEqual([]);
    }
    expect(await scripts()).toBe(before); // all within touchAfter (60 s): served, not touched
  });

  it('logs out everywhere', async () => {
    const laptop = new HttpClient(url);
    const phone = new HttpClient(url);
    await laptop.post('/login', { username: 'multi' });
    await phone.post('/login', { username: 'multi' });
    expect((await laptop.post('/logout-all')).json).toEqual({ destroyed: 2 });
    expect((await phone.get('/me')).status).toBe(401);
  });

  it('health: up with Redis, subscriber and cache details', async () => {
    const health = await new HttpClient(url).get('/health');
    expect(health.status).toBe(200);
    expect(health.json.info.session).toMatchObject({
      status: 'up',
      redis: 'up',
      subscriber: 'subscribed',
      cache: {
        hits: expect.any(Number),
        misses: expect.any(Number),
        evictions: 0,
        size: expect.any(Number),
        hitRate: expect.any(Number),
      },
    });
  });

  it('Redis stopped: sessionless routes answer, session routes get 503 with Retry-After in time, health is down; then back', async () => {
    const client = new HttpClient(url);
    await client.post('/login', { username: 'outage' });
    await server.stop();
    try {
      expect((await client.get('/ping')).status).toBe(200);
      const started = Date.now();
      const me = await client.get('/me');
      expect(me.status).toBe(503);
      expect(me.headers.get('retry-after')).toBe('1');
      expect(Date.now() - started).toBeLessThan(2_500);
      // a login needs Redis only in the commit, after the handler: the failure still becomes a 503
      const login = await new HttpClient(url).post('/login', { username: 'nobody' });
      expect(login.status).toBe(503);
      expect(login.headers.get('retry-after')).toBe('1');
      expect(login.setCookies).toEqual([]);
      const health = await client.get('/health');
      expect(health.status).toBe(503);
      expect(health.json.error.session).toMatchObject({
        status: 'down',
        redis: 'down',
        // in words, naming the endpoint (#16 item 3), and the last connection error once there
        // is one (#25)
        message: expect.stringMatching(
          /^Redis at 127\.0\.0\.1:\d+ is not connected \(connection \w+(: connect ECONNREFUSED [\d.:]+)?\)$/,
        ),
      });
    } finally {
      await server.restart();
    }
    await waitFor(async () => (await client.get('/health')).status === 200, {
      timeoutMs: 10_000,
      what: 'health to recover',
    });
    const again = new HttpClient(url);
    await again.post('/login', { username: 'back' });
    expect((await again.get('/me')).json).toEqual({ username: 'back' });
  });
});
