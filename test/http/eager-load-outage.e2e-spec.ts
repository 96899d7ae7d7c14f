import { Controller, Get, Req, type INestApplication } from '@nestjs/common';
import { RedisServer } from '../support/redis-server';
import { HttpClient } from './support/http-client';
import { createAppOnNewRedis, type Platform } from './support/test-app';

/* eslint-disable @typescript-eslint/no-explicit-any */
@Controller('o')
class OutageController {
  @Get('req-session') viaReq(@Req() req: any) {
    return { visits: req.session.visits ?? null };
  }
  @Get('json') json(@Req() req: any) {
    return { s: JSON.stringify(req.raw?.session ?? req.session) };
  }
}

describe.each<Platform>(['express', 'fastify'])(
  '#15 review: Redis hangs during eager load on %s',
  (platform) => {
    let server: RedisServer;
    let app: INestApplication;
    let url: string;
    beforeAll(async () => {
      ({ server, app, url } = await createAppOnNewRedis(platform, [OutageController]));
    });
    afterAll(async () => {
      server.resume();
      await app.close();
      await server.dispose();
    });

    it('sessionless routes answer, session routes answer 503, none hangs or 500s', async () => {
      const c = new HttpClient(url);
      await c.post('/visit');
      expect(c.cookie).toBeDefined();
      server.pause();
      try {
        await new Promise((r) => setTimeout(r, 600)); // heartbeat missed: cache untrusted
        const t0 = Date.now();
        const results = await Promise.all(
          ['/ping', '/cart', '/o/req-session', '/o/json'].map(async (p) => [
            p,
            (await c.get(p)).status,
            Date.now() - t0,
          ]),
        );
        expect(Object.fromEntries(results.map(([p, s]) => [p, s]))).toEqual({
          '/ping': 200,
          '/cart': 503,
          '/o/req-session': 503,
          '/o/json': 503,
        });
        for (const [, , ms] of results) expect(ms).toBeLessThan(3000);
      } finally {
        server.resume();
      }
    });
  },
);
