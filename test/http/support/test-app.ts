import {
  Body,
  Controller,
  Get,
  Post,
  Session as CommonSession,
  UnauthorizedException,
  type DynamicModule,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { TEST_SECRET } from '../../support/cluster-fixture';
import { RedisServer } from '../../../sample/support/redis-server';
import {
  ClusterSessionHealthIndicator,
  ClusterSessionModule,
  InjectSessionStore,
  Session,
  SessionHandle,
  SessionStore,
} from '../../../lib';

export type Platform = 'express' | 'fastify';

interface Data {
  username?: string;
  visits?: number;
  cart?: string[];
  [key: string]: unknown;
}

@Controller()
export class TestController {
  constructor(
    @InjectSessionStore() private readonly store: SessionStore,
    private readonly health: HealthCheckService,
    private readonly indicator: ClusterSessionHealthIndicator,
  ) {}

  @Get('ping')
  ping() {
    return { ok: true };
  }

  @Post('login')
  async login(@Body() body: { username: string }, @Session() session: SessionHandle<Data>) {
    await session.regenerate();
    session.set('username', body.username);
    session.setUser(body.username);
    return { username: body.username };
  }

  @Get('me')
  me(@Session() session: SessionHandle<Data>) {
    if (session.isNew) {
      throw new UnauthorizedException();
    }
    return { ...session.data };
  }

  @Post('visit')
  visit(@Session() session: SessionHandle<Data>) {
    session.set('visits', (session.get('visits') ?? 0) + 1);
    return { visits: session.get('visits') };
  }

  @Post('cart')
  addToCart(@Body() body: { item: string }, @Session() session: SessionHandle<Data>) {
    session.set('cart', [...(session.get('cart') ?? []), body.item]);
    return { ok: true };
  }

  @Get('cart')
  cart(@Session('cart') cart: string[] | undefined) {
    return { cart: cart ?? null };
  }

  @Get('common')
  common(@CommonSession() session: SessionHandle<Data>) {
    return { loaded: session.isLoaded, username: session.isNew ? null : session.get('username') };
  }

  @Post('regenerate')
  async regenerate(@Session() session: SessionHandle<Data>) {
    await session.regenerate();
    return { ok: true };
  }

  @Post('logout')
  async logout(@Session() session: SessionHandle<Data>) {
    await session.destroy();
    return { ok: true };
  }

  @Post('logout-all')
  async logoutAll(@Session() session: SessionHandle<Data>) {
    if (session.isNew || !session.userId) {
      throw new UnauthorizedException();
    }
    return { destroyed: await this.store.destroyAllForUser(session.userId) };
  }

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.indicator.isHealthy('session')]);
  }
}

/**
 * A Nest application with the module under test, listening on a free port, behind a trusted proxy;
 * `controllers` are a suite's own, beside `TestController`.
 */
export async function createApp(
  platform: Platform,
  sessionModule: DynamicModule,
  controllers: Type[] = [],
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [sessionModule, TerminusModule],
    controllers: [TestController, ...controllers],
  }).compile();
  moduleRef.useLogger(false);
  let app: INestApplication;
  if (platform === 'express') {
    const express = moduleRef.createNestApplication<NestExpressApplication>();
    express.set('trust proxy', true);
    app = express;
  } else {
    app = moduleRef.createNestApplication<NestFastifyApplication>(
      new FastifyAdapter({ trustProxy: true }),
    );
  }
  await app.listen(0, '127.0.0.1');
  return app;
}

/** A private redis-server and an application with the module on it (the HTTP suites' setup). */
export async function createAppOnNewRedis(
  platform: Platform,
  controllers: Type[] = [],
): Promise<{ server: RedisServer; app: INestApplication; url: string }> {
  const server = await RedisServer.start();
  const app = await createApp(
    platform,
    ClusterSessionModule.forRoot({
      secret: TEST_SECRET,
      redis: server.url,
      cluster: { heartbeatInterval: 200 },
    }),
    controllers,
  );
  return { server, app, url: await app.getUrl() };
}
