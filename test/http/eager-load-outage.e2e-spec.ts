import { Controller, Get, Req, type INestApplication } from '@nestjs/common';
import { ClusterCoordinator } from '../../lib';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';
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
    /** Waits for the node to miss a heartbeat (on a loaded machine its timer fires late). */
    const heartbeatMissed = () => {
      const coordinator = app.get(ClusterCoordinator);
      return waitFor(() => !coordinator.isTrusted(), { what: 'the heartbeat to be missed' });
    };
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
        await heartbeatMissed(); // the cache untrusted
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
        for (const [, , ms] of results) {
          expect(ms).toBeLessThan(3000);
        }
      } finally {
        server.resume();
      }
    });

    it('#17 review: a request issued while an earlier one waits on a paused Redis still gets its 503 within the command timeout', async () => {
      // two sessions: reads of one session share one Redis call
      const [a, b] = [new HttpClient(url), new HttpClient(url)];
      await a.post('/visit');
      await b.post('/visit');
      server.pause();
      try {
        await heartbeatMissed(); // the cache untrusted
        // a's read is in flight (auto-pipelined) when b's is issued, and b's waits behind it
        const timed = async (client: HttpClient, delayMs: number) => {
          await new Promise((r) => setTimeout(r, delayMs));
          const started = Date.now();
          return { status: (await client.get('/cart')).status, ms: Date.now() - started };
        };
        const [first, second] = await Promise.all([timed(a, 0), timed(b, 1_000)]);
        expect(first.status).toBe(503);
        expect(second.status).toBe(503);
        // the connections time commands out after 2 s: from when each was issued
        expect(first.ms).toBeLessThan(2_700);
        expect(second.ms).toBeLessThan(2_700);
      } finally {
        server.resume();
      }
    });
  },
);
