import { Body, Controller, Get, Post, Req, type INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ClusterSessionModule } from '../../lib';
import { TEST_SECRET } from '../support/cluster-fixture';
import { TcpProxy } from '../support/tcp-proxy';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';
import { HttpClient } from './support/http-client';
import { createApp, type Platform } from './support/test-app';

/* eslint-disable @typescript-eslint/no-explicit-any */
const DAY = 86_400_000;
let release: () => void = () => undefined;
let gate: Promise<void> = Promise.resolve();
let entered = 0;
const arm = () => {
  entered = 0;
  gate = new Promise<void>((r) => (release = r));
};
const cb = (fn: (done: (e?: unknown) => void) => unknown) =>
  new Promise<void>((res, rej) => void fn((e) => (e ? rej(e) : res())));
const sess = (req: any) => (req.raw?.session ?? req.session) as any;

@Controller('r')
class RaceController {
  @Post('login') async login(@Req() req: any, @Body() b: { name: string }) {
    await cb((d) => sess(req).regenerate(d));
    sess(req).user = b.name; // req.session is a new object after regenerate, as with express-session
    return { id: sess(req).id };
  }
  /** express-session's logout: a new, empty session in place of the signed-in one */
  @Post('logout') async logout(@Req() req: any) {
    await cb((d) => sess(req).regenerate(d));
    return { ok: true };
  }
  /** the same, from a handler that does not wait for it */
  @Post('logout-unawaited') logoutUnawaited(@Req() req: any) {
    void sess(req).regenerate();
    return { ok: true };
  }
  @Post('remember') remember(@Req() req: any) {
    sess(req).cookie.maxAge = 30 * DAY;
    return { ok: true };
  }
  /** a request that loaded the session, then is slow (a page render, an upstream call) */
  @Get('slow-read') async slowRead(@Req() req: any) {
    void sess(req).user;
    entered++;
    await gate;
    return { ok: true };
  }
  @Post('slow-write') async slowWrite(@Req() req: any) {
    const s = sess(req);
    void s.user;
    entered++;
    await gate;
    s.cart = ['book'];
    return { ok: true };
  }
  @Get('who') who(@Req() req: any) {
    const s = sess(req);
    return { user: s.user ?? null, maxAge: s.cookie.originalMaxAge };
  }
}

describe.each<Platform>(['express', 'fastify'])('#15 review: cookie races on %s', (platform) => {
  let server: RedisServer;
  let redis: Redis;
  const apps: INestApplication[] = [];
  const start = async (options: Record<string, unknown> = {}, url = server.url) => {
    const app = await createApp(
      platform,
      ClusterSessionModule.forRoot({
        secret: TEST_SECRET,
        redis: url,
        absoluteTimeout: 60 * DAY,
        ...options,
      }),
      [RaceController],
    );
    apps.push(app);
    return app.getUrl();
  };

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = server.client();
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    redis.disconnect();
    await server.dispose();
  });

  it('rolling: a slow read that loaded the session before a login does not overwrite the login cookie (G10)', async () => {
    const url = await start({ rolling: true });
    const browser = new HttpClient(url);
    await browser.post('/r/login', { name: 'anon-first' });
    const before = browser.cookie!;
    arm();
    const tab2 = new HttpClient(url);
    tab2.cookie = before;
    const slow = tab2.get('/r/slow-read');
    await waitFor(() => entered === 1, { timeoutMs: 5000, what: 'slow read entered' });
    await browser.post('/r/login', { name: 'alice' }); // login: new id
    expect((await browser.get('/r/who')).json.user).toBe('alice');
    release();
    const late = await slow;
    // the browser applies the late response's Set-Cookie over the login's
    if (late.setCookies.length) {
      browser.cookie = late.setCookies[0].split(';')[0];
    }
    expect((await browser.get('/r/who')).json.user).toBe('alice');
  });

  it('remember me: a concurrent write does not turn the persistent cookie into a browser-session cookie', async () => {
    const url = await start();
    const browser = new HttpClient(url);
    await browser.post('/r/login', { name: 'bob' });
    arm();
    const xhr = new HttpClient(url);
    xhr.cookie = browser.cookie;
    const slow = xhr.post('/r/slow-write');
    await waitFor(() => entered === 1, { timeoutMs: 5000, what: 'slow write entered' });
    const remember = await browser.post('/r/remember');
    expect(remember.setCookies[0]).toMatch(/Max-Age=2592000/);
    release();
    const late = await slow;
    expect(late.setCookies[0]).toMatch(/Max-Age=/); // else the browser now holds a session cookie
  });

  it.each(['logout', 'logout-unawaited'])(
    'a logout by regenerate() (%s) on one node is not undone by another node whose invalidation is late: the old cookie is cleared',
    async (route) => {
      const proxy = await TcpProxy.start(server.port);
      try {
        const a = await start({}, `redis://127.0.0.1:${proxy.port}`);
        const b = await start();
        const browser = new HttpClient('');
        await browser.post(`${a}/r/login`, { name: 'carol' });
        expect((await browser.get(`${a}/r/who`)).json.user).toBe('carol'); // cached on A
        proxy.subscriberDelayMs = 400; // A hears of B's changes late (a busy node, a slow link)
        const logout = await browser.post(`${b}/r/${route}`);
        expect(logout.json).toEqual({ ok: true });
        // the new, empty session is not stored (saveUninitialized: false); the signed-in one is
        // gone, and the browser must not keep a cookie that A's cache still knows as carol's
        expect(logout.setCookies.join()).toMatch(/Expires=Thu, 01 Jan 1970/);
        expect((await browser.get(`${a}/r/who`)).json.user).toBeNull();
      } finally {
        await proxy.close();
      }
    },
  );
});
