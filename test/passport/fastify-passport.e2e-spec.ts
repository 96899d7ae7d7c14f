import fastifyPassport from '@fastify/passport';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { Strategy as LocalStrategy } from 'passport-local';
import { ClusterSessionModule, SessionStore, type ExpressSessionView } from '../../lib';
import { HttpClient } from '../http/support/http-client';
import { TEST_SECRET } from '../support/cluster-fixture';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';

const PASSWORDS: Record<string, string> = { alice: 'alice-password' };
const sessionOf = (request: unknown) => (request as { session: ExpressSessionView }).session;

/**
 * @fastify/passport on this module's session, wired as its README shows (initialize, the session
 * plugin, a strategy, (de)serializers, `authenticate` as a preValidation hook), on a Nest Fastify
 * application whose main.ts registers them after `NestFactory.create`. Two nodes share Redis.
 */
async function startNode(
  redis: string,
  passportOptions: { clearSessionOnLogin?: boolean } = {},
): Promise<NestFastifyApplication> {
  @Module({ imports: [ClusterSessionModule.forRoot({ secret: TEST_SECRET, redis })] })
  class AppModule {}
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), {
    logger: false,
  });
  const passport = new fastifyPassport.Authenticator(passportOptions);
  await app.register(passport.initialize());
  await app.register(passport.secureSession());
  passport.use(
    'local',
    new LocalStrategy((username, password, done) =>
      done(null, PASSWORDS[username] === password ? { username } : false),
    ),
  );
  passport.registerUserSerializer(async (user: { username: string }) => user.username);
  passport.registerUserDeserializer(async (username: string) => ({ username }));

  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  const store = app.get(SessionStore);
  fastify.post(
    '/login',
    { preValidation: passport.authenticate('local', { authInfo: false }) },
    async (request) => {
      sessionOf(request).setUser((request.user as { username: string }).username);
      return request.user;
    },
  );
  fastify.post('/cart', async (request) => {
    sessionOf(request).cart = ['book'];
    return { ok: true };
  });
  fastify.get('/profile', async (request, reply) =>
    request.isAuthenticated()
      ? { user: request.user, cart: sessionOf(request).cart ?? null }
      : reply.code(403).send({ denied: true }),
  );
  fastify.post('/logout', async (request) => {
    await request.logout();
    sessionOf(request).setUser(null); // out of the user's index, as in the Express recipe
    return { ok: true };
  });
  fastify.post('/logout-all', async (request) => ({
    destroyed: await store.destroyAllForUser((request.user as { username: string }).username),
  }));
  await app.listen(0, '127.0.0.1');
  return app;
}

describe('@fastify/passport on Fastify, two nodes', () => {
  let redis: RedisServer;
  let a: NestFastifyApplication;
  let b: NestFastifyApplication;

  beforeAll(async () => {
    redis = await RedisServer.start();
    [a, b] = [await startNode(redis.url), await startNode(redis.url)];
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis.dispose();
  });

  it('logs in on one node, is recognised on the other, logs out everywhere', async () => {
    const [urlA, urlB] = [await a.getUrl(), await b.getUrl()];
    const browser = new HttpClient('');
    const login = await browser.post(`${urlA}/login`, {
      username: 'alice',
      password: 'alice-password',
    });
    expect(login.status).toBe(200);
    expect((await browser.get(`${urlB}/profile`)).json).toEqual({
      user: { username: 'alice' },
      cart: null, // the session was regenerated empty at login (clearSessionOnLogin)
    });
    const signedIn = browser.cookie;

    await browser.post(`${urlB}/logout`);
    expect((await browser.get(`${urlA}/profile`)).status).toBe(403);
    const stolen = new HttpClient('');
    stolen.cookie = signedIn;
    // G2: node A drops it once the invalidation has reached it (under a millisecond, mostly)
    await waitFor(async () => (await stolen.get(`${urlA}/profile`)).status === 403, {
      timeoutMs: 2_000,
      what: 'node A to drop the logged-out session',
    });

    const laptop = new HttpClient('');
    const phone = new HttpClient('');
    for (const [device, url] of [
      [laptop, urlA],
      [phone, urlB],
    ] as const) {
      await device.post(`${url}/login`, { username: 'alice', password: 'alice-password' });
    }
    expect((await laptop.post(`${urlB}/logout-all`)).json).toEqual({ destroyed: 2 });
    expect((await phone.get(`${urlA}/profile`)).status).toBe(403);
    expect((await laptop.get(`${urlB}/profile`)).status).toBe(403);
  });
});

describe('@fastify/passport with clearSessionOnLogin: false', () => {
  let redis: RedisServer;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    redis = await RedisServer.start();
    app = await startNode(redis.url, { clearSessionOnLogin: false });
  });

  afterAll(async () => {
    await app?.close();
    await redis.dispose();
  });

  it('keeps what the session held before the login, under a new id (against fixation)', async () => {
    const url = await app.getUrl();
    const browser = new HttpClient(url);
    await browser.post('/cart');
    const before = browser.cookie;
    expect(
      (await browser.post('/login', { username: 'alice', password: 'alice-password' })).status,
    ).toBe(200);
    expect(browser.cookie?.split(/[=:]/)[1]).not.toBe(before?.split(/[=:]/)[1]);
    expect((await browser.get('/profile')).json).toEqual({
      user: { username: 'alice' },
      cart: ['book'],
    });
    const stolen = new HttpClient(url);
    stolen.cookie = before;
    expect((await stolen.get('/profile')).status).toBe(403);
  });
});
