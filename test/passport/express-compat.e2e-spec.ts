import { Body, Controller, Get, Post, Req, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { inspect } from 'node:util';
import { Passport } from 'passport';
import { csrfSync } from 'csrf-sync';
import { ClusterSessionModule } from '../../lib';
import { TEST_SECRET } from '../support/cluster-fixture';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';
import { HttpClient } from '../http/support/http-client';

/* eslint-disable @typescript-eslint/no-explicit-any */
const passport = new Passport();
passport.serializeUser((user: any, done) => done(null, user.name));
passport.deserializeUser((name: string, done) => done(null, { name }));
const csrf = csrfSync();
const cb = (fn: (done: (e?: unknown) => void) => unknown) =>
  new Promise<void>((res, rej) => void fn((e) => (e ? rej(e) : res())));

@Controller()
class C {
  @Get('ping') ping() {
    return { ok: true };
  }

  @Post('remember')
  remember(@Req() req: any, @Body() body: { remember: boolean }) {
    // the common express-session "remember me" idiom
    if (body.remember) {
      req.session.cookie.maxAge = 30 * 86_400_000;
    } else {
      req.session.cookie.expires = false;
    }
    req.session.x = 1;
    return { ok: true };
  }

  @Get('inspect') insp(@Req() req: any) {
    req.session.visible = 'yes';
    const deep = inspect(req.session, { depth: Infinity });
    return {
      text: inspect(req.session),
      json: JSON.stringify(req.session),
      secretInDeep: deep.includes('test-secret-that'),
      deepLength: deep.length,
    };
  }

  @Post('ops') ops(@Req() req: any) {
    Object.assign(req.session, { a: 1, b: { c: 2 } });
    const keys: string[] = [];
    for (const k in req.session) {
      keys.push(k);
    }
    delete req.session.a;
    return {
      keys,
      json: JSON.stringify(req.session),
      has: 'b' in req.session,
      own: Object.prototype.hasOwnProperty.call(req.session, 'b'),
    };
  }
  @Get('ops') opsRead(@Req() req: any) {
    return { ...req.session };
  }

  @Get('csrf') token(@Req() req: any) {
    return { token: csrf.generateToken(req) };
  }
  @Post('transfer') transfer() {
    return { ok: true };
  }

  @Post('login') async login(@Req() req: any, @Body() b: { name: string }) {
    await cb((d) => req.login({ name: b.name }, d));
    req.session.userId = b.name; // app code beside Passport, as many express-session apps have
    return { user: req.user };
  }
  @Post('logout') async logout(@Req() req: any) {
    await cb((d) => req.logout(d));
    return { ok: true };
  }
  @Get('whoami') who(@Req() req: any) {
    return { passportUser: req.user ?? null, appUserId: req.session.userId ?? null };
  }
}

describe('#15 review: express-session compatibility', () => {
  let server: RedisServer;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    server = await RedisServer.start();
    const moduleRef = await Test.createTestingModule({
      imports: [
        ClusterSessionModule.forRoot({
          secret: TEST_SECRET,
          redis: server.url,
          cluster: { heartbeatInterval: 200 },
        }),
      ],
      controllers: [C],
    }).compile();
    moduleRef.useLogger(false);
    const express = moduleRef.createNestApplication<NestExpressApplication>();
    express.use(passport.initialize());
    express.use(passport.session());
    express.use('/transfer', csrf.csrfSynchronisedProtection);
    app = express;
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  afterAll(async () => {
    await app?.close();
    await server?.dispose();
  });

  it('cookie.expires = false (browser-session cookie) works as on express-session', async () => {
    const c = new HttpClient(url);
    const r = await c.post('/remember', { remember: false });
    expect(r.status).toBe(201);
  });

  it('Object.assign / for...in / delete / spread behave (held)', async () => {
    const c = new HttpClient(url);
    const r = await c.post('/ops');
    // JSON.stringify includes the cookie, as express-session's does
    expect(r.json).toMatchObject({ keys: ['a', 'b'], has: true, own: true });
    expect(JSON.parse(r.json.json)).toMatchObject({ b: { c: 2 }, cookie: { path: '/' } });
    expect((await c.get('/ops')).json).toEqual({ b: { c: 2 } });
  });

  it('util.inspect / JSON.stringify of req.session show the data, not internals', async () => {
    const c = new HttpClient(url);
    const r = await c.get('/inspect');
    expect(r.json.secretInDeep).toBe(false);
    expect(r.json.text).not.toMatch(/store|redis|Redis|handle|secret/);
    expect(r.json.text).toContain('visible');
    expect(r.json.json).toContain('cookie');
  });

  it('Passport logout ends app-level login state as on express-session (regenerate empties)', async () => {
    const c = new HttpClient(url);
    await c.post('/login', { name: 'alice' });
    expect((await c.get('/whoami')).json).toEqual({
      passportUser: { name: 'alice' },
      appUserId: 'alice',
    });
    await c.post('/logout');
    expect((await c.get('/whoami')).json).toEqual({ passportUser: null, appUserId: null });
  });

  it('login (regenerate) drops a CSRF token planted before login (session fixation)', async () => {
    const attacker = new HttpClient(url);
    const { token } = (await attacker.get('/csrf')).json;
    const victim = new HttpClient(url);
    victim.cookie = attacker.cookie; // cookie tossing / fixation
    await victim.post('/login', { name: 'victim' });
    expect(victim.cookie).not.toBe(attacker.cookie);
    // the attacker forges a cross-site POST carrying the token he knows; the browser adds the victim's cookie
    const forged = await victim.post('/transfer', {}, { 'x-csrf-token': token });
    expect(forged.status).toBe(403);
  });

  it('Redis down: with passport.session() mounted every request with a cookie uses the session, so it answers 503 (never 500), and one without a cookie answers', async () => {
    const c = new HttpClient(url);
    await c.post('/login', { name: 'bob' });
    await server.stop();
    try {
      const ping = await c.get('/ping');
      const who = await c.get('/whoami');
      expect(ping.status).toBe(503);
      expect(ping.headers.get('retry-after')).toBe('1');
      expect(who.status).toBe(503);
      expect((await new HttpClient(url).get('/ping')).status).toBe(200);
    } finally {
      await server.restart();
      await waitFor(async () => (await new HttpClient(url).get('/ping')).status === 200, {
        timeoutMs: 10_000,
        what: 'recovery',
      });
    }
  });
});
