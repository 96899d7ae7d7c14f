import {
  Module,
  type MiddlewareConsumer,
  type NestModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Subscription } from 'rxjs';
import { ClusterSessionRuntime } from './cluster-session.runtime';
import { ConfigurableModuleClass } from './cluster-session.module-definition';
import { EXPORTED_PROVIDERS, INTERNAL_PROVIDERS } from './cluster-session.providers';
import { installOnExpress } from './http/express.platform';
import { installOnFastify } from './http/fastify.platform';
import { SessionCommitter } from './http/session-committer.service';
import { SessionMiddleware } from './http/session.middleware';

/**
 * HTTP sessions shared by many nodes through Redis, with a local cache on each node kept
 * coherent by Pub/Sub. `ClusterSessionModule.forRoot(options)` or `.forRootAsync({ imports,
 * inject, useFactory | useClass | useExisting, isGlobal })`. Connects and subscribes on init;
 * on shutdown finishes in-flight commits, unsubscribes and closes its connections.
 *
 * @example
 * ClusterSessionModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({
 *     secret: config.getOrThrow('SESSION_SECRET'),
 *     redis: config.get('REDIS_URL') ?? 'redis://127.0.0.1:6379',
 *   }),
 * })
 *
 * @publicApi
 */
@Module({
  providers: [...EXPORTED_PROVIDERS, ...INTERNAL_PROVIDERS],
  exports: EXPORTED_PROVIDERS,
})
export class ClusterSessionModule
  extends ConfigurableModuleClass
  implements NestModule, OnModuleInit, OnApplicationShutdown
{
  constructor(
    private readonly runtime: ClusterSessionRuntime,
    private readonly adapterHost: HttpAdapterHost,
    private readonly committer: SessionCommitter,
    private readonly middleware: SessionMiddleware,
  ) {
    super();
    this.subscription = adapterHost.init$.subscribe(() => {
      try {
        this.installOnPlatform();
      } catch (error) {
        this.installError = error; // thrown by onModuleInit: the application fails to start
      }
    });
  }

  private installed = false;
  private installError?: unknown;
  private readonly subscription: Subscription;

  /**
   * Where the platform allows it (Express, Fastify) the session goes straight onto the
   * platform as soon as the HTTP adapter exists, before main.ts can mount its own middleware
   * (`NestFactory.create` sets the adapter before building modules; a testing module sets it in
   * `createNestApplication`).
   */
  private installOnPlatform(): void {
    const adapter = this.adapterHost.httpAdapter;
    const type = adapter?.getType();
    if (type === 'express') {
      installOnExpress(adapter.getInstance(), this.middleware, this.committer);
    } else if (type === 'fastify') {
      installOnFastify(adapter.getInstance(), this.middleware, this.committer);
    } else {
      return;
    }
    this.installed = true;
  }

  /** Other platforms: through Nest's middleware consumer, for every route. */
  configure(consumer: MiddlewareConsumer): void {
    if (!this.installed) {
      consumer.apply(SessionMiddleware).forRoutes('{*path}');
    }
  }

  async onModuleInit(): Promise<void> {
    if (this.installError !== undefined) {
      throw this.installError;
    }
    await this.runtime.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.subscription.unsubscribe();
    await this.runtime.stop();
  }
}
