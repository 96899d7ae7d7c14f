import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { TerminusModule } from '@nestjs/terminus';
import session from 'express-session';
import { Test } from '@nestjs/testing';
import {
  ClusterCoordinator,
  ClusterSessionModule,
  InvalidOptionsError,
  LocalCache,
  type ClusterSessionOptions,
} from '../../lib';
import { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { TEST_SECRET } from '../support/cluster-fixture';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';
import { HttpClient } from './support/http-client';
import { createApp, TestController } from './support/test-app';

describe('ClusterSessionModule configuration and lifecycle', () => {
  let server: RedisServer;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  afterAll(async () => {
    await server.dispose();
  });

  async function start(module: Parameters<typeof createApp>[1]) {
    const app = await createApp('express', module);
    apps.push(app);
    return { app, client: new HttpClient(await app.getUrl()) };
  }

  async function loginWorks(client: HttpClient) {
    await client.post('/login', { username: 'cfg' });
    expect((await client.get('/me')).json).toEqual({ username: 'cfg' });
  }

  it('#14.15 on Fastify, fails at startup when another plugin already decorates request.session', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ClusterSessionModule.forRoot({ secret: TEST_SECRET, redis: server.url })],
    }).compile();
    moduleRef.useLogger(false);
    const adapter = new FastifyAdapter();
    adapter.getInstance().decorateRequest('session', null); // as @fastify/session does
    const app = moduleRef.createNestApplication<NestFastifyApplication>(adapter);
    try {
      await expect(app.init()).rejects.toThrow(
        /request\.session is already decorated on this Fastify instance .*remove that plugin/,
      );
    } finally {
      await app.close();
    }
  });

  it('a forgotten express-session steps aside; a middleware that replaces req.session gets a clear error', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ClusterSessionModule.forRoot({ secret: TEST_SECRET, redis: server.url }),
        TerminusModule,
      ],
      controllers: [TestController],
    }).compile();
    const errors: string[] = [];
    moduleRef.useLogger({
      log: () => undefined,
      warn: () => undefined,
      error: (message: unknown) => errors.push(String(message)),
    });
    const app = moduleRef.createNestApplication<NestExpressApplication>();
    // express-session left in main.ts: it never replaces an existing req.session
    app.use(session({ secret: TEST_SECRET, resave: false, saveUninitialized: true }));
    app.use(
      (
        req: { headers: Record<string, unknown>; session?: unknown },
        _res: unknown,
        next: () => void,
      ) => {
        if (req.headers['x-replace']) {
          req.session = { not: 'ours' };
        }
        next();
      },
    );
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    const client = new HttpClient(await app.getUrl());
    const login = await client.post('/login', { username: 'kept' });
    expect(login.setCookies.map((cookie) => cookie.split('=')[0])).toEqual(['sid']);
    expect((await client.get('/me')).json).toEqual({ username: 'kept' });

    expect(errors).toEqual([]);

    expect((await client.get('/ping', { 'x-replace': '1' })).status).toBe(200); // no session used
    expect((await client.get('/me', { 'x-replace': '1' })).status).toBe(500);
    expect(errors.join('\n')).toMatch(/req\.session was replaced by another session middleware/);
  });

  it('rotates secrets end to end: an old-secret cookie works and comes back signed with the newest', async () => {
    const OLD = 'the-old-secret-of-at-least-32-characters';
    const NEW = 'the-new-secret-of-at-least-32-characters';
    const before = await start(ClusterSessionModule.forRoot({ secret: OLD, redis: server.url }));
    await before.client.post('/login', { username: 'rotating' });
    const oldCookie = before.client.cookie!;

    // deployed with [newest, retired]: the old cookie still logs in, and is re-signed
    const during = await start(
      ClusterSessionModule.forRoot({ secret: [NEW, OLD], redis: server.url }),
    );
    during.client.cookie = oldCookie;
    const me = await during.client.get('/me');
    expect(me.json).toEqual({ username: 'rotating' });
    expect(me.setCookies).toHaveLength(1);
    const newCookie = during.client.cookie!;
    expect(newCookie).not.toBe(oldCookie);
    expect(newCookie.split('.')[0]).toBe(oldCookie.split('.')[0]); // same id and version
    const again = await during.client.get('/me'); // signed with the newest: nothing more to do
    expect(again.setCookies).toHaveLength(0);

    // the retired secret removed: the re-signed cookie still works, the old one does not
    const after = await start(ClusterSessionModule.forRoot({ secret: NEW, redis: server.url }));
    after.client.cookie = newCookie;
    expect((await after.client.get('/me')).json).toEqual({ username: 'rotating' });
    after.client.cookie = oldCookie;
    expect((await after.client.get('/me')).status).toBe(401);
  });

  it('forRootAsync with ConfigModule and ConfigService', async () => {
    const config = () => ({
      SESSION_SECRET: TEST_SECRET,
      REDIS_URL: server.url,
      NODE_ID: 'from-config',
    });
    const { app, client } = await start(
      ClusterSessionModule.forRootAsync({
        imports: [ConfigModule.forRoot({ load: [config], ignoreEnvFile: true })],
        inject: [ConfigService],
        useFactory: (cfg: ConfigService) => ({
          secret: cfg.getOrThrow<string>('SESSION_SECRET'),
          redis: cfg.get<string>('REDIS_URL'),
          cluster: { nodeId: cfg.get<string>('NODE_ID') },
        }),
      }),
    );
    await loginWorks(client);
    expect(app.get(ClusterSessionRuntime).coordinator.nodeId).toBe('from-config');
  });

  it('on a single node (cluster.enabled: false) the coordinator and cache are injected, disabled, never null', async () => {
    const { app, client } = await start(
      ClusterSessionModule.forRoot({
        secret: TEST_SECRET,
        redis: server.url,
        cluster: { enabled: false },
      }),
    );
    await loginWorks(client);
    expect(app.get(ClusterCoordinator).enabled).toBe(false);
    expect(app.get(LocalCache).enabled).toBe(false);
    const health = await client.get('/health');
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({
      details: { session: { status: 'up', subscriber: 'disabled', cacheTrusted: false } },
    });
  });

  it('forRootAsync with useClass and useExisting', async () => {
    @Injectable()
    class SessionConfig {
      createClusterSessionOptions(): ClusterSessionOptions {
        return { secret: TEST_SECRET, redis: server.url };
      }
    }
    @Module({ providers: [SessionConfig], exports: [SessionConfig] })
    class SessionConfigModule {}

    await loginWorks(
      (await start(ClusterSessionModule.forRootAsync({ useClass: SessionConfig }))).client,
    );
    await loginWorks(
      (
        await start(
          ClusterSessionModule.forRootAsync({
            imports: [SessionConfigModule],
            useExisting: SessionConfig,
          }),
        )
      ).client,
    );
  });

  it.each<[string, Partial<ClusterSessionOptions>, RegExp]>([
    [
      'a short secret',
      { secret: 'too-short' },
      /Invalid option secret: got a string of 9 characters; expected a string of at least 32/,
    ],
    ['a string ttl', { ttl: '1h' as unknown as number }, /Invalid option ttl: got "1h"/],
    [
      'a bad sameSite',
      { cookie: { sameSite: 'sometimes' as 'lax' } },
      /Invalid option cookie.sameSite/,
    ],
  ])('refuses to start with %s, saying which option and why', async (_name, options, message) => {
    const attempt = createApp(
      'express',
      ClusterSessionModule.forRoot({ secret: TEST_SECRET, redis: server.url, ...options }),
    );
    await expect(attempt).rejects.toThrow(InvalidOptionsError);
    await expect(
      createApp(
        'express',
        ClusterSessionModule.forRoot({ secret: TEST_SECRET, redis: server.url, ...options }),
      ),
    ).rejects.toThrow(message);
  });

  it('two applications on one Redis: a login on one is read on the other, a logout on one is seen by the other', async () => {
    const options = { secret: TEST_SECRET, redis: server.url };
    const a = await start(
      ClusterSessionModule.forRoot({ ...options, cluster: { nodeId: 'app-a' } }),
    );
    const b = await start(
      ClusterSessionModule.forRoot({ ...options, cluster: { nodeId: 'app-b' } }),
    );
    await a.client.post('/login', { username: 'two' });
    b.client.cookie = a.client.cookie;
    expect((await b.client.get('/me')).json).toEqual({ username: 'two' });
    expect((await b.client.get('/me')).json).toEqual({ username: 'two' }); // now from b's cache

    const cookie = a.client.cookie;
    await a.client.post('/logout');
    b.client.cookie = cookie;
    // once the invalidation arrives (G2; its latency is measured by `npm run bench`)
    await waitFor(async () => (await b.client.get('/me')).status === 401, {
      timeoutMs: 2_000,
      intervalMs: 1,
      what: 'b to see the logout',
    });
  });

  it('closes everything it opened on app.close(), and close is idempotent', async () => {
    const sockets = () =>
      process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const baseline = sockets();
    const app = await createApp(
      'express',
      ClusterSessionModule.forRoot({ secret: TEST_SECRET, redis: server.url }),
    );
    const runtime = app.get(ClusterSessionRuntime);
    await loginWorks(new HttpClient(await app.getUrl()));
    expect(sockets()).toBeGreaterThan(baseline);
    await app.close();
    await runtime.stop();
    expect(runtime.redis.status).toBe('end');
    await waitFor(() => sockets() <= baseline, { what: 'every socket to close' });
  });
});
