import type { INestApplication } from '@nestjs/common';
import { ClusterCoordinator, ClusterSessionModule } from '../../lib';
import { TEST_SECRET } from '../support/cluster-fixture';
import { RedisSentinelSetup } from '../support/redis-sentinel';
import { waitFor } from '../../sample/support/wait-for';
import { HttpClient } from '../http/support/http-client';
import { createApp } from '../http/support/test-app';

const USERS = 5;

/**
 * `SENTINEL FAILOVER` while clients keep using their sessions: the app finds the new primary by
 * itself, flushes its cache, and the only failures are 503s (with Retry-After) during the switch.
 */
describe('Redis Sentinel: failover under load', () => {
  let setup: RedisSentinelSetup;
  let app: INestApplication;

  beforeAll(async () => {
    setup = await RedisSentinelSetup.start();
    app = await createApp(
      'express',
      ClusterSessionModule.forRoot({
        secret: TEST_SECRET,
        redis: setup.options,
        cluster: { nodeId: 'sentinel-app', heartbeatInterval: 200 },
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await setup?.dispose();
  });

  it('recovers on its own; caches are flushed; failures are only 503s during the switch', async () => {
    const url = await app.getUrl();
    const base = url.replace('[::1]', '127.0.0.1');
    const clients = Array.from({ length: USERS }, () => new HttpClient(base));
    for (const [i, client] of clients.entries()) {
      expect((await client.post('/login', { username: `user-${i}` })).status).toBe(201);
    }
    const coordinator = app.get(ClusterCoordinator);
    const flushesBefore = coordinator.stats().flushes;

    type Outcome = { sentAt: number; at: number; status: number; retryAfter: string | null };
    const outcomes: Outcome[] = [];
    let running = true;
    const load = clients.map(async (client, i) => {
      while (running) {
        const sentAt = Date.now();
        const response =
          outcomes.length % 10 === 0 ? await client.post('/visit') : await client.get('/me');
        outcomes.push({
          sentAt,
          at: Date.now(),
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
        });
        if (response.status === 200) {
          expect(response.json.username).toBe(`user-${i}`);
        }
      }
    });

    await waitFor(() => outcomes.length > 50, { what: 'load before the failover' });
    const switchStarted = Date.now();
    const newPrimary = await setup.failover();
    const switched = Date.now();
    // recovered: every client served again after the switch
    const recoveredAt = await waitFor(
      () => {
        const after = outcomes.filter((o) => o.at > switched);
        const ok = after.length > 50 && after.slice(-20).every((o) => o.status < 300);
        return ok ? Date.now() : 0;
      },
      { timeoutMs: 20_000, what: 'requests to succeed again after the failover' },
    );
    running = false;
    await Promise.all(load);

    const failures = outcomes.filter((o) => o.status >= 300);
    for (const failure of failures) {
      expect(failure.status).toBe(503);
      expect(failure.retryAfter).not.toBeNull();
      expect(failure.at).toBeGreaterThanOrEqual(switchStarted);
      // sent before recovery was seen (one in flight then may still fail just after)
      expect(failure.sentAt).toBeLessThanOrEqual(recoveredAt);
    }
    expect(newPrimary).toBe(setup.replica);
    // the subscriber moves to the new primary on its own schedule (the failover detector's),
    // possibly after the command connection has recovered: wait for its flush, then its trust
    await waitFor(() => coordinator.stats().flushes > flushesBefore, {
      what: 'the subscriber to move to the new primary (a flush)',
    });
    await waitFor(() => coordinator.isTrusted(), { what: 'the subscriber to come back' });
    for (const [i, client] of clients.entries()) {
      expect((await client.get('/me')).json.username).toBe(`user-${i}`); // sessions survived
    }
    console.log(
      `sentinel failover: ${outcomes.length} requests, ${failures.length} answered 503, ` +
        `switch ${switched - switchStarted} ms, recovered ${recoveredAt - switched} ms after it`,
    );
  });
});
