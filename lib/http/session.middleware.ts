import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CLUSTER_SESSION_OPTIONS } from '../cluster-session.constants';
import { ClusterSessionRuntime } from '../cluster-session.runtime';
import type { ResolvedClusterSessionOptions } from '../options/cluster-session-options.interface';
import { clientDescriber } from '../session/client-description';
import { expressSessionView, type ExpressSessionView } from '../session/express-session.view';
import { SessionHandle } from '../session/session-handle';
import { SessionStore } from '../store/session-store';
import { ResponseGate } from './response-gate';
import { SessionCommitter } from './session-committer.service';
import { SessionCookieService } from './session-cookie.service';

export interface MiddlewareRequest {
  headers: { cookie?: string };
  protocol?: string;
  /** express-session's `req.session`: the data keys as properties, and the session API. */
  session?: ExpressSessionView;
}

/**
 * Gives every request its session (`req.session`, express-session's API over a
 * `SessionHandle`) before anything else runs, and commits it before the first byte of the
 * response leaves, whichever call sends it (see `ResponseGate`). A request with a valid signed
 * cookie has its session loaded before `next()` (a cache hit, mostly), so middleware mounted in
 * main.ts (Passport, connect-flash, CSRF) reads it synchronously as with express-session; a
 * request without one starts a new session at once and never reaches Redis. A failed load does
 * not fail the request: routes that use the session answer 503, the others answer.
 */
@Injectable()
export class SessionMiddleware implements NestMiddleware {
  constructor(
    private readonly store: SessionStore,
    private readonly cookies: SessionCookieService,
    private readonly committer: SessionCommitter,
    @Inject(CLUSTER_SESSION_OPTIONS) private readonly options: ResolvedClusterSessionOptions,
    private readonly runtime: ClusterSessionRuntime,
  ) {}

  use(request: MiddlewareRequest, response: ServerResponse, next: () => void): void {
    this.start(request, response, request, next);
  }

  /**
   * Gives the request its session, commits it before the response's first byte, and calls `next`
   * once it is loaded. `protocol` tells at commit time whether the request came over HTTPS: the
   * Express request, or on Fastify the Fastify request (the raw one does not know about proxies).
   */
  start(
    request: MiddlewareRequest,
    response: ServerResponse,
    protocol: { protocol?: string },
    next: () => void,
    /** False where the platform gates every response already (Express: its response prototype). */
    gate = true,
  ): void {
    const received = this.cookies.read(request.headers.cookie);
    const handle = new SessionHandle(
      this.store,
      received,
      this.options,
      clientDescriber(this.options.describeClient, request as unknown as IncomingMessage),
    );
    request.session = expressSessionView(handle, request);
    if (gate) {
      ResponseGate.install(response, handle, this.committer, protocol);
    }
    // switching from express-session: this browser's session moves in, once (see migrateFrom)
    const legacy = received ? null : this.cookies.readLegacy(request.headers.cookie);
    const loading = legacy
      ? handle.adopt(this.runtime.migrator!.migrate(legacy))
      : handle.loadSync()
        ? null
        : handle.load();
    if (!loading) {
      return next();
    }
    // a failure is kept by the handle (see SessionHandle.load): routes that use the session get 503
    loading.then(
      () => next(),
      () => next(),
    );
  }
}
