import {
  Module,
  type MiddlewareConsumer,
  type NestModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ClusterSessionRuntime } from './cluster-session.runtime';
import { ConfigurableModuleClass } from './cluster-session.module-definition';
import { EXPORTED_PROVIDERS, INTERNAL_PROVIDERS } from './cluster-session.providers';
import { SessionMiddleware } from './http/session.middleware';

/**
 * HTTP sessions shared by many nodes through Redis, with a local cache on each node kept
 * coherent by Pub/Sub. `ClusterSessionModule.forRoot(options)` or `.forRootAsync({ imports,
 * inject, useFactory | useClass | useExisting, isGlobal })`. Connects and subscribes on init;
 * on shutdown finishes in-flight commits, unsubscribes and closes its connections.
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
  ) {
    super();
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(SessionMiddleware).forRoutes('{*path}');
  }

  async onModuleInit(): Promise<void> {
    this.exposeOnFastifyRequest();
    await this.runtime.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.stop();
  }

  /** On Fastify, middleware sees the raw request: make `request.session` (and Nest's `@Session()`) reach it. */
  private exposeOnFastifyRequest(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() !== 'fastify') return;
    const fastify = adapter.getInstance<{
      hasRequestDecorator(name: string): boolean;
      decorateRequest(
        name: string,
        value: { getter(this: { raw: { session?: unknown } }): unknown },
      ): void;
    }>();
    if (fastify.hasRequestDecorator('session')) return;
    fastify.decorateRequest('session', {
      getter() {
        return this.raw.session;
      },
    });
  }
}
