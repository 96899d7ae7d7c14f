import { Controller, Get, Post, Req, type INestApplication } from '@nestjs/common';
import { sign } from 'cookie-signature';
import type { Redis } from 'ioredis';
import { ClusterSessionModule, InjectSessionStore, SessionStore } from '../../lib';
import { TEST_SECRET } from '../support/cluster-fixture';
import { sessionRef } from '../../lib/session/session-id.util';
import { logsOf } from '../support/logs';
import { RedisServer } from '../../sample/support/redis-server';
import { createApp } from './support/test-app';

/* eslint-disable @typescript-eslint/no-explicit-any */
const DAY = 86_400_000;

@Controller('m')
class MigrationController {
  constructor(@InjectSessionStore() private readonly store: SessionStore) {}
  @Get('who') who(@Req() req: any) {
    return { user: req.session.passport?.user ?? null, maxAge: req.session.cookie.originalMaxAge };
  }
  @Post('logout') async logout(@Req() req: any) {
    await req.session.destroy();
    return { ok: true };
  }
  /** "log out everywhere", e.g. after a password change */
  @Post('logout-all') async logoutAll(@Req() req: any) {
    return { destroyed: await this.store.destroyAllForUser(req.body.user) };
  }
}

/** A browser with a cookie jar by name. */
class Browser {
  cookies = new Map<string, string>();
  constructor(private readonly url: string) {}
  async req(path: string, method = 'GET', body?: unknown) {
    const r = await fetch(this.url + path, {
      method,
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    for (const h of r.headers.getSetCookie()) {
      const [pair] = h.split(';');
      const at = pair.indexOf('=');
      if (/Expires=Thu, 01 Jan 1970/i.test(h)) {
        this.cookies.delete(pair.slice(0, at));
      } else {
        this.cookies.set(pair.slice(0, at), pair.slice(at + 1));
      }
    }
    const text = await r.text();
    return {
      status: r.status,
      json: text ? JSON.parse(text) : undefined,
      setCookies: r.headers.getSetCookie(),
    };
  }
}

describe('#15 review: migrateFrom', () => {
  let server: RedisServer;
  let redis: Redis;
  let app: INestApplication;
  let url: string;
  let n = 0;

  /** What connect-redis stores for an express-session session, and the browser's connect.sid. */
  const legacy = async (value: string, ttlSeconds = 86_400) => {
    const id = `legacy-${++n}-${Date.now()}`;
    await redis.set(`sess:${id}`, value, 'EX', ttlSeconds);
    const browser = new Browser(url);
    browser.cookies.set('connect.sid', encodeURIComponent('s:' + sign(id, TEST_SECRET)));
    return { id, browser };
  };
  const expressSession = (
    data: Record<string, unknown>,
    cookie: Record<string, unknown> = {
      originalMaxAge: null,
      expires: null,
      httpOnly: true,
      path: '/',
    },
  ) => JSON.stringify({ cookie, ...data });

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = server.client();
    app = await createApp(
      'express',
      ClusterSessionModule.forRoot({
        secret: TEST_SECRET,
        redis: server.url,
        migrateFrom: {},
        absoluteTimeout: 60 * DAY,
      }),
      [MigrationController],
    );
    url = await app.getUrl();
  });
  afterAll(async () => {
    await app.close();
    redis.disconnect();
    await server.dispose();
  });

  it('bad JSON in connect-redis: the request still answers', async () => {
    const { browser } = await legacy('{not json');
    const r = await browser.req('/m/who');
    expect(r.status).toBe(200);
    expect(r.json.user).toBeNull();
  });

  it('a logged-out migrated session is not brought back by the old cookie (destroy, then connect.sid alone)', async () => {
    const { browser } = await legacy(expressSession({ passport: { user: 'carol' } }));
    expect((await browser.req('/m/who')).json.user).toBe('carol');
    expect(browser.cookies.has('sid')).toBe(true);
    await browser.req('/m/logout', 'POST', {});
    expect(browser.cookies.has('sid')).toBe(false);
    expect(browser.cookies.has('connect.sid')).toBe(true); // never cleared by the module
    expect((await browser.req('/m/who')).json.user).toBeNull();
  });

  it('"log out everywhere" reaches a migrated Passport session', async () => {
    const { browser } = await legacy(expressSession({ passport: { user: 'alice' } }));
    expect((await browser.req('/m/who')).json.user).toBe('alice'); // migrated, logged in
    const all = await new Browser(url).req('/m/logout-all', 'POST', { user: 'alice' });
    expect(all.json).toEqual({ destroyed: 1 });
    expect((await browser.req('/m/who')).json.user).toBeNull();
  });

  it('#24 "log out everywhere" reaches connect-redis sessions not yet migrated', async () => {
    // the laptop's session cookie and the phone's persistent one, both from before the logout
    const laptop = await legacy(expressSession({ passport: { user: 'erin' } }));
    const before = new Date(Date.now() + 30 * DAY - 60_000).toISOString(); // active a minute ago
    const phone = await legacy(
      expressSession(
        { passport: { user: 'erin' } },
        { originalMaxAge: 30 * DAY, expires: before, httpOnly: true, path: '/' },
      ),
    );
    const all = await new Browser(url).req('/m/logout-all', 'POST', { user: 'erin' });
    expect(all.json).toEqual({ destroyed: 0 }); // none of them in the index yet
    expect((await laptop.browser.req('/m/who')).json.user).toBeNull();
    expect((await phone.browser.req('/m/who')).json.user).toBeNull();
    expect(laptop.browser.cookies.has('sid')).toBe(false); // nothing was created
    // a session signed in on express-session after the logout (beyond a minute for the
    // express-session nodes' clocks) still moves in
    const after = new Date(Date.now() + 30 * DAY + 120_000).toISOString();
    const later = await legacy(
      expressSession(
        { passport: { user: 'erin' } },
        { originalMaxAge: 30 * DAY, expires: after, httpOnly: true, path: '/' },
      ),
    );
    expect((await later.browser.req('/m/who')).json.user).toBe('erin');
  });

  it('#24 a connect-redis session whose cookie has expired, or is about to, is not revived', async () => {
    for (const left of [-60_000, 500]) {
      const expires = new Date(Date.now() + left).toISOString();
      const { browser } = await legacy(
        expressSession(
          { passport: { user: 'frank' } },
          { originalMaxAge: DAY, expires, httpOnly: true, path: '/' },
        ),
      );
      const r = await browser.req('/m/who');
      expect(r.status).toBe(200);
      expect(r.json.user).toBeNull();
      expect(browser.cookies.has('sid')).toBe(false);
    }
  });

  it('#24 a connect-redis session above maxSessionBytes: no session, the old value left for a roll-back', async () => {
    const value = expressSession({ passport: { user: 'gina' }, blob: 'x'.repeat(70_000) });
    const { id, browser } = await legacy(value);
    const logged = await logsOf(async () => {
      for (let i = 0; i < 2; i++) {
        const r = await browser.req('/m/who');
        expect(r.status).toBe(200);
        expect(r.json.user).toBeNull();
      }
    });
    expect(await redis.get(`sess:${id}`)).toBe(value);
    // said loudly, once, with what to do
    const said = logged.filter((line) => line.includes(sessionRef(id)));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      /^error: .*larger than maxSessionBytes \(65536 bytes\).*Raise maxSessionBytes/,
    );
  });

  it('#24 a cookie lifetime above absoluteTimeout: cut to it, and said once with the option to set', async () => {
    const cookie = (days: number) => ({
      originalMaxAge: days * DAY,
      expires: new Date(Date.now() + days * DAY).toISOString(),
      httpOnly: true,
      path: '/',
    });
    const logged = await logsOf(async () => {
      for (const user of ['hank', 'ivy']) {
        const { browser } = await legacy(expressSession({ passport: { user } }, cookie(90)));
        const r = await browser.req('/m/who');
        expect(r.json.user).toBe(user);
        const maxAge = Number(/Max-Age=(\d+)/.exec(r.setCookies.join())?.[1]);
        expect(maxAge).toBeLessThanOrEqual(60 * 86_400); // absoluteTimeout here: 60 days
      }
    });
    const said = logged.filter((line) => line.includes('absoluteTimeout'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      /^warn: .*90 days.*absoluteTimeout \(60 days\).*at least express-session's cookie.maxAge/,
    );
  });

  it('#24 review: a pointer to another session written into express-session data is never followed', async () => {
    const victim = await legacy(expressSession({ passport: { user: 'victor' } }));
    expect((await victim.browser.req('/m/who')).json.user).toBe('victor');
    const victimId = decodeURIComponent(victim.browser.cookies.get('sid')!).split(/[:.]/)[0];
    // what an express-session app that copies request fields into the session could store
    for (const pointer of [victimId, `${victimId}.forged-mac`]) {
      const mallory = await legacy(
        expressSession({ passport: { user: 'mallory' }, __clusterSession: pointer }),
      );
      const r = await mallory.browser.req('/m/who');
      expect(r.json.user).toBe('mallory');
      const sid = decodeURIComponent(mallory.browser.cookies.get('sid')!).split(/[:.]/)[0];
      expect(sid).not.toBe(victimId);
    }
    // nor a genuine pointer copied from another legacy session
    const movedValue = JSON.parse((await redis.get(`sess:${victim.id}`))!);
    const copy = await legacy(
      expressSession({
        passport: { user: 'mallory' },
        __clusterSession: movedValue.__clusterSession,
      }),
    );
    expect((await copy.browser.req('/m/who')).json.user).toBe('mallory');
  });

  it('#24 review: a numeric Passport user is an owner; an odd userOf answer is said once, never a 503', async () => {
    const numeric = await legacy(expressSession({ passport: { user: 42 } }));
    expect((await numeric.browser.req('/m/who')).json.user).toBe(42);
    expect((await new Browser(url).req('/m/logout-all', 'POST', { user: '42' })).json).toEqual({
      destroyed: 1,
    });
    expect((await numeric.browser.req('/m/who')).json.user).toBeNull();
  });

  it('#24 review: an express-session node a little ahead of Redis does not slip past "log out everywhere"', async () => {
    await new Browser(url).req('/m/logout-all', 'POST', { user: 'skewed' });
    // active "5 s after" the logout, by the clock of a node 5 s ahead
    const expires = new Date(Date.now() + 5_000 + 30 * DAY).toISOString();
    const { browser } = await legacy(
      expressSession(
        { passport: { user: 'skewed' } },
        { originalMaxAge: 30 * DAY, expires, httpOnly: true, path: '/' },
      ),
    );
    expect((await browser.req('/m/who')).json.user).toBeNull();
  });

  it('#24 review: a connect-redis value over the read limit is reported as too large, once', async () => {
    const value = expressSession({ passport: { user: 'huge' }, blob: 'x'.repeat(1_100_000) });
    const { id, browser } = await legacy(value);
    const logged = await logsOf(async () => {
      for (let i = 0; i < 2; i++) {
        expect((await browser.req('/m/who')).json.user).toBeNull();
      }
    });
    const said = logged.filter((line) => line.includes(sessionRef(id)));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^error: .*larger than maxSessionBytes/);
  });

  it('a persistent express-session cookie about to expire is not given a fresh lifetime', async () => {
    // created 29.9 days ago with a 30-day cookie: express-session would end it in ~2 hours
    const expires = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const { browser } = await legacy(
      expressSession(
        { passport: { user: 'dave' } },
        { originalMaxAge: 30 * DAY, expires, httpOnly: true, path: '/' },
      ),
      7200,
    );
    const r = await browser.req('/m/who');
    const maxAge = Number(/Max-Age=(\d+)/.exec(r.setCookies.join())?.[1]);
    expect(maxAge).toBeLessThanOrEqual(2 * 3600);
  });
});
