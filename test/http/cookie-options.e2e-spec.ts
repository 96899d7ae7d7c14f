import { Controller, Get, Req, type INestApplication } from '@nestjs/common';
import { RedisServer } from '../../sample/support/redis-server';
import { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { resolveOptions } from '../../lib/options/resolve-options';
import { TEST_SECRET } from '../support/cluster-fixture';
import { logsOf } from '../support/logs';
import { HttpClient } from './support/http-client';
import { createApp, createAppOnNewRedis, type Platform } from './support/test-app';
import { waitFor } from '../../sample/support/wait-for';
import { ClusterSessionModule } from '../../lib';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** What each attribute is set to: not what the module's options give it. */
const VALUES: Record<string, unknown> = {
  secure: true,
  domain: 'example.com',
  path: '/other',
  sameSite: 'strict',
  httpOnly: false,
};

/** Sets a cookie attribute per request, as express-session code may. */
@Controller('cookie')
class CookieAttributeController {
  /** "Remember me" for 30 days. */
  @Get('remember')
  remember(@Req() req: any) {
    req.session.cookie.maxAge = 30 * 86_400_000;
    req.session.remembered = true;
    return { originalMaxAge: req.session.cookie.originalMaxAge, maxAge: req.session.cookie.maxAge };
  }

  /** Review: an expiry taken back, an expiry before a login, a lifetime read back. */
  @Get('review')
  async review(@Req() req: any) {
    const step = String(req.query.step);
    if (step === 'taken-back') {
      req.session.cookie.maxAge = 0;
      req.session.cookie.maxAge = 3_600_000;
    } else if (step === 'then-login') {
      req.session.cookie.maxAge = 0;
      await new Promise<void>((resolve, reject) =>
        req.session.regenerate((error: unknown) => (error ? reject(error) : resolve())),
      );
      req.session.username = 'newuser';
    } else if (step === 'forever') {
      req.session.cookie.expires = new Date(Date.now() + 500 * 86_400_000);
    } else if (step === 'copy-back') {
      Object.assign(req.session.cookie, JSON.parse(JSON.stringify(req.session.cookie)));
    } else if (step === 'read-back') {
      req.session.cookie.maxAge = 72_000_000;
    } else if (step === 'half-second') {
      req.session.cookie.maxAge = 500;
    }
    return { maxAge: req.session.cookie.maxAge, originalMaxAge: req.session.cookie.originalMaxAge };
  }

  /** express-session's way to end a session's cookie now. */
  @Get('expire')
  expire(@Req() req: any) {
    req.session.cookie.maxAge = 0;
    return { ok: true };
  }

  @Get('set')
  set(@Req() req: any) {
    const attribute = String(req.query.attribute);
    try {
      req.session.cookie[attribute] = VALUES[attribute];
      return { applied: true };
    } catch (error) {
      return { refused: (error as Error).message, reads: req.session.cookie[attribute] };
    }
  }
}

describe.each<Platform>(['express', 'fastify'])('#25 cookie options on %s', (platform) => {
  let server: RedisServer;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    ({ server, app, url } = await createAppOnNewRedis(platform, [CookieAttributeController]));
  });

  afterAll(async () => {
    await app.close();
    await server.dispose();
  });

  it('a valid session cookie in a Cookie header longer than 8 KB is read (Node accepts up to 16 KB)', async () => {
    const client = new HttpClient(url);
    expect((await client.post('/login', { username: 'ann' })).status).toBe(201);
    const padding = Array.from({ length: 60 }, (_, i) => `pad${i}=${'x'.repeat(150)}`).join('; ');
    const header = `${padding}; ${client.cookie}`;
    expect(header.length).toBeGreaterThan(8_192);
    const me = await client.get('/me', { cookie: header });
    expect(me.json).toMatchObject({ username: 'ann' });
  });

  it('a per-request cookie lifetime above absoluteTimeout reads back what the cookie gets (24 h here)', async () => {
    const client = new HttpClient(url);
    expect((await client.post('/login', { username: 'dan' })).status).toBe(201);
    const response = await client.get('/cookie/remember');
    expect(response.json.originalMaxAge).toBe(86_400_000);
    expect(response.json.maxAge).toBeLessThanOrEqual(86_400_000);
    const maxAge = Number(/Max-Age=(\d+)/.exec(response.setCookies.join())?.[1]);
    expect(maxAge).toBeLessThanOrEqual(86_400);
    expect(maxAge).toBeGreaterThan(86_000);
  });

  it('req.session.cookie.maxAge = 0 expires the cookie and ends the session, as express-session does', async () => {
    const client = new HttpClient(url);
    expect((await client.post('/login', { username: 'cat' })).status).toBe(201);
    const cookie = client.cookie;
    const response = await client.get('/cookie/expire');
    expect(response.status).toBe(200);
    expect(response.setCookies).toEqual([
      expect.stringMatching(/^sid=; .*Expires=Thu, 01 Jan 1970/),
    ]);
    const old = new HttpClient(url);
    old.cookie = cookie;
    expect((await old.get('/me')).status).toBe(401);
  });

  describe('review of the cookie changes', () => {
    async function loggedIn(): Promise<HttpClient> {
      const client = new HttpClient(url);
      expect((await client.post('/login', { username: 'rev' })).status).toBe(201);
      return client;
    }

    it('an expiry taken back (maxAge = 0, then a lifetime) keeps the session, with that lifetime', async () => {
      const client = await loggedIn();
      const response = await client.get('/cookie/review?step=taken-back');
      expect(response.json.maxAge).toBeGreaterThan(3_590_000);
      expect(response.setCookies.join()).toMatch(/Max-Age=3600/);
      expect((await client.get('/me')).status).toBe(200);
    });

    it('an expiry asked before regenerate() ends the old session, not the new one', async () => {
      const client = await loggedIn();
      await client.get('/cookie/review?step=then-login');
      expect((await client.get('/me')).json).toMatchObject({ username: 'newuser' });
    });

    it('a lifetime set in the request reads back from now, and 0 reads back 0', async () => {
      const client = await loggedIn();
      const set = await client.get('/cookie/review?step=read-back');
      expect(set.json.maxAge).toBeGreaterThan(71_990_000);
      const expired = await client.get('/cookie/expire');
      expect(expired.status).toBe(200);
    });

    it('"forever" idioms and a copied-back cookie are not errors', async () => {
      const client = await loggedIn();
      const forever = await client.get('/cookie/review?step=forever');
      expect(forever.status).toBe(200);
      expect(forever.json.originalMaxAge).toBe(86_400_000); // absoluteTimeout here
      const copied = await client.get('/cookie/review?step=copy-back');
      expect(copied.status).toBe(200);
      expect((await client.get('/me')).status).toBe(200);
    });

    it('a lifetime under a second expires the cookie now, rather than send Max-Age=0 and store the session', async () => {
      const client = await loggedIn();
      const response = await client.get('/cookie/review?step=half-second');
      expect(response.json.maxAge).toBe(0);
      expect(response.setCookies).toEqual([
        expect.stringMatching(/^sid=; .*Expires=Thu, 01 Jan 1970/),
      ]);
    });
  });

  it.each(['secure', 'domain', 'path', 'sameSite', 'httpOnly'])(
    'req.session.cookie.%s set per request is refused with an error naming the option, not silently ignored',
    async (attribute) => {
      const client = new HttpClient(url);
      expect((await client.post('/login', { username: 'bob' })).status).toBe(201);
      const response = await client.get(`/cookie/set?attribute=${attribute}`);
      expect(response.json.applied).toBeUndefined();
      expect(response.json.refused).toContain(`module's options (cookie.${attribute})`);
      expect(response.json.reads).not.toBe(VALUES[attribute]);
    },
  );
});

describe('#25 cookie.maxAge above absoluteTimeout', () => {
  it('is said at startup, with the option to raise', async () => {
    let runtime: ClusterSessionRuntime | undefined;
    const logged = await logsOf(() => {
      runtime = new ClusterSessionRuntime(
        resolveOptions({
          secret: TEST_SECRET,
          redis: 'redis://127.0.0.1:1',
          cookie: { maxAge: 30 * 86_400_000 },
        }),
      );
    });
    await runtime?.stop();
    expect(logged).toEqual([
      expect.stringMatching(
        /^warn: cookie.maxAge \(2592000000 ms\) is longer than absoluteTimeout \(86400000 ms\).*Raise absoluteTimeout/,
      ),
    ]);
  });
});

describe('#25 rolling with a short cookie lifetime (at or below touchAfter)', () => {
  let server: RedisServer;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    server = await RedisServer.start();
    app = await createApp(
      'express',
      ClusterSessionModule.forRoot({
        secret: TEST_SECRET,
        redis: server.url,
        rolling: true,
        cookie: { maxAge: 3_000 }, // touchAfter stays at its default, 60 s
      }),
    );
    url = await app.getUrl();
  });

  afterAll(async () => {
    await app.close();
    await server.dispose();
  });

  it('an active user stays signed in: the idle timeout slides while the cookie is re-sent', async () => {
    const client = new HttpClient(url);
    expect((await client.post('/login', { username: 'eve' })).status).toBe(201);
    const until = Date.now() + 5_000; // longer than the 3 s lifetime
    while (Date.now() < until) {
      const me = await client.get('/me');
      expect(me.status).toBe(200);
      expect(me.setCookies.join()).toMatch(/Max-Age=[23]\b/);
      const paused = Date.now();
      // a request about every 500 ms
      await waitFor(async () => Date.now() - paused >= 500, { what: 'the user to click again' });
    }
  });
});
