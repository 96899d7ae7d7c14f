import { Body, Controller, Get, Post, Req, type INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ClusterSessionModule, type ExpressSessionView } from '../../lib';
import { sessionKey } from '../../lib/store/session-keys';
import { TEST_SECRET } from '../support/cluster-fixture';
import { RedisServer } from '../../sample/support/redis-server';
import { HttpClient } from './support/http-client';
import { createApp, type Platform } from './support/test-app';

const DAY = 86_400_000;

/** A request as middleware written for express-session sees it (Fastify: the raw request too). */
interface ExpressStyleRequest {
  session: ExpressSessionView & Record<string, unknown>;
  sessionID: string;
  raw?: ExpressStyleRequest;
}

const callback = (call: (cb: (error?: unknown) => void) => unknown) =>
  new Promise<void>((resolve, reject) => {
    call((error) => (error ? reject(error) : resolve()));
  });

/** Routes that use only express-session's API on `req.session`, as Passport or connect-flash do. */
@Controller('api')
class ExpressApiController {
  @Post('login')
  async login(@Req() req: ExpressStyleRequest, @Body() body: { name: string; raw?: boolean }) {
    const request = body.raw && req.raw ? req.raw : req;
    await callback((cb) => request.session.regenerate(cb));
    request.session.user = body.name;
    request.session.setUser(body.name);
    await callback((cb) => request.session.save(cb));
    return { sessionID: request.sessionID };
  }

  @Get()
  read(@Req() req: ExpressStyleRequest) {
    const session = req.session;
    return {
      keys: Object.keys(session),
      spread: { ...session },
      user: session.user ?? null,
      hasUser: 'user' in session,
      sessionID: req.sessionID,
      rawSame: req.raw ? req.raw.session.user === session.user : true,
      cookie: session.cookie,
    };
  }

  @Post('set')
  set(@Req() req: ExpressStyleRequest, @Body() body: Record<string, unknown>) {
    for (const [key, value] of Object.entries(body)) {
      req.session[key] = value;
    }
    return { ok: true };
  }

  @Post('nested')
  nested(@Req() req: ExpressStyleRequest) {
    const flash = (req.session.flash ??= {}) as Record<string, string[]>;
    (flash.info ??= []).push('hello');
    return { ok: true };
  }

  @Post('delete')
  remove(@Req() req: ExpressStyleRequest, @Body() body: { key: string }) {
    delete req.session[body.key];
    return { ok: true };
  }

  @Post('reload')
  async reload(@Req() req: ExpressStyleRequest) {
    req.session.user = 'changed, not saved';
    await req.session.reload();
    return { user: req.session.user };
  }

  @Post('remember')
  remember(@Req() req: ExpressStyleRequest, @Body() body: { days: number }) {
    req.session.cookie.maxAge = body.days * DAY;
    return { ok: true };
  }

  @Post('touch')
  touch(@Req() req: ExpressStyleRequest) {
    return { chained: req.session.touch() === req.session };
  }

  @Post('reserved')
  reserved(@Req() req: ExpressStyleRequest) {
    try {
      (req.session as unknown as Record<string, unknown>).regenerate = 'oops';
      return { threw: false };
    } catch (error) {
      return { threw: true, message: (error as Error).message };
    }
  }

  @Post('destroy')
  async destroy(@Req() req: ExpressStyleRequest) {
    await req.session.destroy();
    return { ok: true };
  }
}

describe.each<Platform>(['express', 'fastify'])(
  "req.session as express-session's on %s",
  (platform) => {
    let server: RedisServer;
    let redis: Redis;
    let a: INestApplication;
    let b: INestApplication;
    const apps: INestApplication[] = [];

    const start = async (
      options: Partial<Parameters<typeof ClusterSessionModule.forRoot>[0]> = {},
    ) => {
      const app = await createApp(
        platform,
        ClusterSessionModule.forRoot({
          secret: TEST_SECRET,
          redis: server.url,
          absoluteTimeout: 60 * DAY,
          cluster: { heartbeatInterval: 200 },
          ...options,
        }),
        [ExpressApiController],
      );
      apps.push(app);
      return app;
    };
    const tab = async (...nodes: INestApplication[]) => {
      const client = new HttpClient('');
      const urls = await Promise.all(nodes.map((node) => node.getUrl()));
      return {
        client,
        on: (i: number) => ({
          get: (path: string) => client.get(urls[i] + path),
          post: (path: string, body?: unknown) => client.post(urls[i] + path, body),
        }),
      };
    };

    beforeAll(async () => {
      server = await RedisServer.start();
      redis = server.client();
      [a, b] = [await start(), await start()];
    });

    afterAll(async () => {
      await Promise.all(apps.map((app) => app.close()));
      redis.disconnect();
      await server.dispose();
    });

    it('data keys as properties, regenerate(cb) and save(cb), sessionID, on both nodes', async () => {
      const browser = await tab(a, b);
      await browser.on(0).post('/api/set', { cart: ['book'] });
      const before = browser.client.cookie;
      const login = await browser
        .on(0)
        .post('/api/login', { name: 'ann', raw: platform === 'fastify' });
      expect(login.status).toBe(201);
      expect(browser.client.cookie).not.toBe(before); // regenerated
      const seen = (await browser.on(1).get('/api')).json;
      // regenerate starts empty, as express-session's: the cart set before login is not carried
      expect(seen).toMatchObject({
        keys: ['user'],
        spread: { user: 'ann' },
        user: 'ann',
        hasUser: true,
        sessionID: login.json.sessionID,
        rawSame: true,
      });
      expect(seen.cookie).toMatchObject({
        path: '/',
        httpOnly: true,
        originalMaxAge: null,
        expires: null,
      });

      await browser.on(0).post('/api/set', { cart: ['book'] });
      await browser.on(1).post('/api/nested');
      await browser.on(0).post('/api/delete', { key: 'cart' });
      expect((await browser.on(1).get('/api')).json.spread).toEqual({
        user: 'ann',
        flash: { info: ['hello'] },
      });
      expect((await browser.on(0).post('/api/reload')).json).toEqual({ user: 'ann' });
      expect((await browser.on(1).post('/api/touch')).json).toEqual({ chained: true });
      expect((await browser.on(0).post('/api/reserved')).json).toMatchObject({
        threw: true,
        message: expect.stringMatching(/req\.session\.regenerate is part of the session API/),
      });

      await browser.on(1).post('/api/destroy');
      expect(browser.client.cookie).toBeUndefined();
      expect((await browser.on(0).get('/api')).json.keys).toEqual([]);
    });

    it('G6 through properties: two nodes writing different keys at once both persist', async () => {
      const browser = await tab(a, b);
      await browser.on(0).post('/api/login', { name: 'g6' });
      const cookie = browser.client.cookie;
      for (let round = 0; round < 10; round++) {
        const [x, y] = [new HttpClient(await a.getUrl()), new HttpClient(await b.getUrl())];
        x.cookie = y.cookie = cookie;
        await Promise.all([x.post('/api/set', { x: round }), y.post('/api/set', { y: round })]);
        const reader = new HttpClient(await a.getUrl());
        reader.cookie = y.cookie;
        expect((await reader.get('/api')).json.spread).toMatchObject({ x: round, y: round });
      }
    });

    it('remember me: req.session.cookie.maxAge makes the cookie persistent and the session live as long in Redis', async () => {
      const browser = await tab(a, b);
      const login = await browser.on(0).post('/api/login', { name: 'remember' });
      expect(login.setCookies[0]).not.toMatch(/Max-Age|Expires/); // a browser-session cookie
      const id = login.json.sessionID as string;

      const remember = await browser.on(1).post('/api/remember', { days: 30 });
      expect(remember.setCookies[0]).toMatch(/; Max-Age=2592000; .*Expires=/);
      const pttl = await redis.pttl(sessionKey('sess:', id));
      expect(pttl).toBeGreaterThan(30 * DAY - 60_000); // not the 1 hour idle timeout
      const seen = (await browser.on(0).get('/api')).json.cookie;
      expect(seen.originalMaxAge).toBe(30 * DAY);
      expect(Date.parse(seen.expires)).toBeGreaterThan(Date.now() + 29 * DAY);

      // a later write keeps it persistent, everywhere
      expect((await browser.on(0).post('/api/set', { n: 1 })).setCookies[0]).toMatch(
        /Max-Age=259\d{4}/,
      );
    });

    it('the cookie.maxAge option and rolling: every response re-sends the cookie, with Max-Age', async () => {
      const rolling = await start({ rolling: true, cookie: { maxAge: 7 * DAY } });
      const browser = await tab(rolling);
      const login = await browser.on(0).post('/api/login', { name: 'rolling' });
      expect(login.setCookies[0]).toMatch(/; Max-Age=604800; /);
      const pttl = await redis.pttl(sessionKey('sess:', login.json.sessionID));
      expect(pttl).toBeGreaterThan(7 * DAY - 60_000);
      const read = await browser.on(0).get('/api');
      expect(read.setCookies).toHaveLength(1);
      expect(read.setCookies[0]).toMatch(/; Max-Age=604800; /); // a fresh expiry
      // without rolling, a read sends no cookie
      const plain = await tab(a);
      await plain.on(0).post('/api/login', { name: 'plain' });
      expect((await plain.on(0).get('/api')).setCookies).toHaveLength(0);
    });

    it('a persistent cookie never outlives the absolute timeout', async () => {
      const short = await start({ absoluteTimeout: 2 * DAY });
      const browser = await tab(short);
      await browser.on(0).post('/api/login', { name: 'short' });
      const remember = await browser.on(0).post('/api/remember', { days: 30 });
      const maxAge = Number(/Max-Age=(\d+)/.exec(remember.setCookies[0])![1]);
      expect(maxAge).toBeLessThanOrEqual(2 * 86_400);
      expect(maxAge).toBeGreaterThan(2 * 86_400 - 60);
    });
  },
);
