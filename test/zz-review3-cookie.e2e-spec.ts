import { Controller, Get, Req, type INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import { RedisServer } from '../sample/support/redis-server';
import { resolveOptions } from '../lib/options/resolve-options';
import { TEST_SECRET } from './support/cluster-fixture';
import { HttpClient } from './http/support/http-client';
import { createApp, type Platform } from './http/support/test-app';
import { ClusterSessionModule } from '../lib';

/* eslint-disable @typescript-eslint/no-explicit-any */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

@Controller('r')
class R {
  @Get('zero-then-remember')
  a(@Req() req: any) {
    req.session.cookie.maxAge = 0;
    req.session.cookie.maxAge = 3_600_000;
    return { maxAge: req.session.cookie.maxAge };
  }
  @Get('zero-then-regenerate')
  async b(@Req() req: any) {
    req.session.cookie.maxAge = 0;
    await req.session.regenerate();
    req.session.username = 'newuser';
    return { ok: true };
  }
  @Get('readback')
  c(@Req() req: any) {
    const before = req.session.cookie.maxAge;
    req.session.cookie.maxAge = 20 * 3_600_000;
    const after = req.session.cookie.maxAge;
    const orig = req.session.cookie.originalMaxAge;
    req.session.cookie.maxAge = 0;
    const afterZero = req.session.cookie.maxAge;
    req.session.cookie.maxAge = null;
    return { before, after, orig, afterZero };
  }
  @Get('copy')
  d(@Req() req: any) {
    const out: any = {};
    try {
      Object.assign(req.session.cookie, JSON.parse(JSON.stringify(req.session.cookie)));
      out.assign = 'ok';
    } catch (e: any) {
      out.assign = `${e.constructor.name}: ${e.message}`;
    }
    try {
      req.session.cookie.originalMaxAge = 60_000;
      out.orig = 'ok';
    } catch (e: any) {
      out.orig = `${e.constructor.name}: ${e.message}`;
    }
    try {
      Object.assign(req.session.cookie, { maxAge: 60_000, expires: new Date(Date.now() + 120_000) });
      out.assign2 = req.session.cookie.originalMaxAge;
    } catch (e: any) {
      out.assign2 = `${e.constructor.name}: ${e.message}`;
    }
    return out;
  }
  @Get('short')
  e(@Req() req: any) {
    req.session.cookie.maxAge = Number(req.query.ms);
    req.session.x = 1;
    return { ok: true };
  }
  @Get('new-zero')
  f(@Req() req: any) {
    req.session.cookie.maxAge = 0;
    return { ok: true };
  }
  @Get('read')
  g(@Req() req: any) {
    return { x: req.session.x ?? null, id: req.sessionID };
  }
}

describe.each<Platform>(['express', 'fastify'])('review3 %s', (platform) => {
  let server: RedisServer;
  let a: INestApplication;
  let b: INestApplication;
  let ua: string;
  let ub: string;
  let redis: Redis;
  beforeAll(async () => {
    server = await RedisServer.start();
    const mod = () =>
      ClusterSessionModule.forRoot({
        secret: TEST_SECRET,
        redis: server.url,
        rolling: true,
        cluster: { heartbeatInterval: 200, localCacheTtl: 30_000 },
      });
    a = await createApp(platform, mod(), [R]);
    b = await createApp(platform, mod(), [R]);
    ua = await a.getUrl();
    ub = await b.getUrl();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await a.close();
    await b.close();
    await server.dispose();
  });

  it('maxAge=0 then maxAge=1h', async () => {
    const c = new HttpClient(ua);
    await c.post('/login', { username: 'ann' });
    const r = await c.get('/r/zero-then-remember');
    const me = await c.get('/me');
    console.log(platform, 'zero-then-remember', r.status, r.json, r.setCookies, 'me', me.status);
  });
  it('maxAge=0 then regenerate', async () => {
    const c = new HttpClient(ua);
    await c.post('/login', { username: 'ann' });
    const r = await c.get('/r/zero-then-regenerate');
    const me = await c.get('/me');
    console.log(platform, 'zero-then-regenerate', r.status, r.setCookies, 'me', me.status, me.json);
  });
  it('readback', async () => {
    const c = new HttpClient(ua);
    await c.post('/login', { username: 'ann' });
    const r = await c.get('/r/readback');
    console.log(platform, 'readback', r.status, r.json, r.setCookies);
  });
  it('copy', async () => {
    const c = new HttpClient(ua);
    await c.post('/login', { username: 'ann' });
    const r = await c.get('/r/copy');
    console.log(platform, 'copy', r.status, r.json);
  });
  it('short', async () => {
    for (const ms of [1, 500, 1500]) {
      const c = new HttpClient(ua);
      const r = await c.get(`/r/short?ms=${ms}`);
      const ttl = await redis.pttl('sess:' + decodeURIComponent(r.setCookies[0]?.split(/[=;:.]/)[1] ?? ''));
      console.log(platform, 'short', ms, r.status, r.setCookies, 'pttl', ttl);
    }
  });
  it('new-zero', async () => {
    const c = new HttpClient(ua);
    const r = await c.get('/r/new-zero');
    console.log(platform, 'new-zero', r.status, r.setCookies);
  });
  it('hostile cookie headers', async () => {
    const c = new HttpClient(ua);
    await c.get('/r/short?ms=3600000');
    const good = c.cookie!;
    const many = Array.from({ length: 3000 }, (_, i) => `c${i}=1`).join('; ');
    const dupBad = `sid=s%3Abogus.sig; ${good}`;
    const weird = `sid=%E0%A4%A; ${'%'.repeat(14000)}=x; ${good}`;
    for (const [name, h] of [
      ['many', `${many}; ${good}`],
      ['dupBadFirst', dupBad],
      ['dupGoodFirst', `${good}; sid=s%3Abogus.sig`],
      ['weird', weird],
      ['over16k', `${'a=' + 'x'.repeat(17000)}; ${good}`],
      ['proto', `__proto__=x; constructor=y; ${good}`],
    ]) {
      const t = Date.now();
      let out: any;
      try {
        const r = await fetch(ua + '/r/read', { headers: { cookie: h } });
        out = [r.status, (await r.text()).slice(0, 80)];
      } catch (e: any) {
        out = String(e);
      }
      console.log(platform, 'hdr', name, h.length, out, Date.now() - t, 'ms');
    }
  });
  it('rolling short maxAge two nodes: alive while active, gone after idle; redis cost', async () => {
    const c = new HttpClient(ua);
    await c.get('/r/short?ms=1500');
    await redis.config('RESETSTAT');
    const log: any[] = [];
    const start = Date.now();
    for (let i = 0; Date.now() - start < 4000; i++) {
      const url = i % 2 ? ub : ua;
      const x = new HttpClient(url);
      x.cookie = c.cookie;
      const r = await x.get('/r/read');
      if (x.cookie !== c.cookie) c.cookie = x.cookie;
      log.push(r.json.x);
      await sleep(100);
    }
    const stats = await redis.info('commandstats');
    console.log(platform, 'rolling reqs', log.length, 'alive', log.filter((v) => v === 1).length, stats.split('\n').filter((l) => /evalsha|eval|fcall/.test(l)));
    await sleep(1700);
    const ra = new HttpClient(ua); ra.cookie = c.cookie;
    const rb = new HttpClient(ub); rb.cookie = c.cookie;
    console.log(platform, 'after idle', (await ra.get('/r/read')).json, (await rb.get('/r/read')).json);
  });
  it('non-rolling short life, cached on B, served after expiry?', async () => {
    const c = new HttpClient(ua);
    await c.get('/r/short?ms=1200');
    const rb = new HttpClient(ub); rb.cookie = c.cookie;
    const r1 = await rb.get('/r/read');
    const results: any[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 2000) {
      const x = new HttpClient(ub); x.cookie = c.cookie;
      const r = await x.get('/r/read');
      results.push([Date.now() - t0, r.json.x]);
      await sleep(150);
    }
    console.log(platform, 'cached', r1.json, JSON.stringify(results));
  });
});

it('case-variant prefixes pass startup', () => {
  for (const name of ['__HOST-sid', '__host-sid', '__SECURE-sid']) {
    let out: string;
    try {
      const o = resolveOptions({ secret: TEST_SECRET, redis: 'redis://127.0.0.1:1', cookie: { name, domain: 'example.com', path: '/x' } });
      out = `accepted secure=${String(o.cookie.secure)}`;
    } catch (e: any) {
      out = e.message;
    }
    console.log('prefix', name, out);
  }
});
