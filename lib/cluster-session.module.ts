import {
  Module,
  type MiddlewareConsumer,
  type NestModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { ClusterSessionRuntime } from './cluster-session.runtime';
import { ClusterSessionError } from './errors/cluster-session.error';
import { ConfigurableModuleClass } from './cluster-session.module-definition';
import { EXPORTED_PROVIDERS, INTERNAL_PROVIDERS } from './cluster-session.providers';
import {
  applyCommitOutcome,
  sessionOf,
  type HttpRequestLike,
  type HttpResponseLike,
} from './http/http-session.util';
import { SessionCommitter } from './http/session-committer.service';
import { SessionMiddleware, type MiddlewareRequest } from './http/session.middleware';

/** Fastify instances whose `request.session` this module decorated. */
const OWN_DECORATION = new WeakSet<object>();

/** The part of the Fastify API this module uses. */
interface FastifyInstanceLike {
  addHook(
    name: 'onRequest',
    hook: (
      request: { raw: MiddlewareRequest; protocol?: string },
      reply: { raw: ServerResponse },
      done: () => void,
    ) => void,
  ): void;
  hasRequestDecorator(name: string): boolean;
  decorateRequest(
    name: string,
    value: { getter(this: { raw: { session?: unknown } }): unknown },
  ): void;
  addHook(
    name: 'onSend',
    hook: (request: HttpRequestLike, reply: HttpResponseLike, payload: unknown) => Promise<unknown>,
  ): void;
}

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
    private readonly committer: SessionCommitter,
    private readonly middleware: SessionMiddleware,
  ) {
    super();
  }

  /**
   * Runs before routes are registered, so what it adds applies to every route. On Express and
   * Fastify the session middleware goes straight onto the platform (Nest's middleware layer costs
   * more per request than the middleware itself); elsewhere through Nest's consumer.
   */
  configure(consumer: MiddlewareConsumer): void {
    const adapter = this.adapterHost.httpAdapter;
    const type = adapter?.getType();
    if (type === 'express') {
      adapter
        .getInstance<{ use(fn: SessionMiddleware['use']): void }>()
        .use((req, res, next) => this.middleware.use(req, res, next));
    } else if (type === 'fastify') {
      this.setUpFastify();
    } else {
      consumer.apply(SessionMiddleware).forRoutes('{*path}');
    }
  }

  async onModuleInit(): Promise<void> {
    await this.runtime.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.stop();
  }

  /**
   * On Fastify, middleware sees the raw request: expose the handle as `request.session` (so
   * Nest's `@Session()` finds it), and commit in `onSend`, before the reply is written (stream
   * payloads too). What bypasses `onSend` (`@Sse()` routes, `reply.hijack()` and writes to
   * `reply.raw`) goes to the raw response, gated like Express's; after `onSend` has committed,
   * the gate lets the reply through untouched.
   */
  private setUpFastify(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstanceLike>();
    if (OWN_DECORATION.has(fastify)) return; // this module's, from an earlier configure()
    if (fastify.hasRequestDecorator('session')) {
      // left alone, requests would see that plugin's session and this module would store nothing
      throw new ClusterSessionError(
        'request.session is already decorated on this Fastify instance (by @fastify/session, ' +
          '@fastify/secure-session or another plugin): remove that plugin, ClusterSessionModule provides request.session',
      );
    }
    OWN_DECORATION.add(fastify);
    fastify.decorateRequest('session', {
      getter() {
        return this.raw.session;
      },
    });
    fastify.addHook('onRequest', (request, reply, done) => {
      this.middleware.attach(request.raw, reply.raw, request);
      done();
    });
    fastify.addHook('onSend', async (request, reply, payload) => {
      const handle = sessionOf(request);
      if (!handle?.needsCommit()) return payload;
      const outcome = await this.committer.commit(handle, request.protocol === 'https');
      const failureBody = applyCommitOutcome(reply, outcome);
      if (failureBody === undefined) return payload;
      // a stream payload replaced by the failure would keep its source (a file) open
      (payload as { destroy?: () => void } | null)?.destroy?.();
      return failureBody;
    });
  }
}
