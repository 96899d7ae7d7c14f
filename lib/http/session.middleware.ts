import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { CLUSTER_SESSION_OPTIONS } from '../cluster-session.constants';
import type { ResolvedClusterSessionOptions } from '../options/cluster-session-options.interface';
import { SessionHandle } from '../session/session-handle';
import { SessionStore } from '../store/session-store';
import { ResponseGate } from './response-gate';
import { SessionCommitter } from './session-committer.service';
import { SessionCookieService } from './session-cookie.service';

export interface MiddlewareRequest {
  headers: { cookie?: string };
  protocol?: string;
  session?: SessionHandle;
}

/**
 * Gives every request a lazy session handle (`req.session`) before guards run; reading Redis
 * waits until the session is used. On Express it also commits the session before the first byte
 * of the response leaves, whichever call sends it (see `ResponseGate`). On Fastify the module
 * calls `attach()` from an `onRequest` hook with the raw request and response (the handle is
 * exposed on the Fastify request too).
 */
@Injectable()
export class SessionMiddleware implements NestMiddleware {
  /** Known at the first request: the adapter may not exist yet when this is constructed. */
  private express?: boolean;

  constructor(
    private readonly store: SessionStore,
    private readonly cookies: SessionCookieService,
    private readonly committer: SessionCommitter,
    @Inject(CLUSTER_SESSION_OPTIONS) private readonly options: ResolvedClusterSessionOptions,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  use(request: MiddlewareRequest, response: ServerResponse, next: () => void): void {
    this.express ??= this.adapterHost.httpAdapter?.getType() === 'express';
    this.attach(request, this.express ? response : undefined);
    next();
  }

  /**
   * Gives the request its handle; given the response, commits before its first byte leaves.
   * `protocol` tells at commit time whether the request came over HTTPS: the Express request,
   * or on Fastify the Fastify request (the raw one does not know about trusted proxies).
   */
  attach(
    request: MiddlewareRequest,
    response?: ServerResponse,
    protocol: { protocol?: string } = request,
  ): void {
    const { touchAfter, saveUninitialized } = this.options;
    const handle = new SessionHandle(this.store, this.cookies.read(request.headers.cookie), {
      touchAfter,
      saveUninitialized,
    });
    request.session = handle;
    if (response) ResponseGate.install(response, handle, this.committer, protocol);
  }
}
