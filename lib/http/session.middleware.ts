import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { CLUSTER_SESSION_OPTIONS } from '../cluster-session.constants';
import type { ResolvedClusterSessionOptions } from '../options/cluster-session-options.interface';
import { SessionHandle } from '../session/session-handle';
import { SessionStore } from '../store/session-store';
import { appendSetCookie } from './http-session.util';
import { SessionCommitter, type CommitOutcome } from './session-committer.service';
import { SessionCookieService } from './session-cookie.service';

interface MiddlewareRequest {
  headers: { cookie?: string };
  protocol?: string;
  session?: SessionHandle;
}

/**
 * Gives every request a lazy session handle (`req.session`) before guards run; reading Redis
 * waits until the session is used. On Express it also commits the session just before the
 * response is sent, by wrapping `res.end` as express-session does (on Fastify the module's
 * `onSend` hook does it; there `req` is the raw request, exposed on the Fastify request too).
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
    const { touchAfter, saveUninitialized } = this.options;
    const handle = new SessionHandle(this.store, this.cookies.read(request.headers.cookie), {
      touchAfter,
      saveUninitialized,
    });
    request.session = handle;
    this.express ??= this.adapterHost.httpAdapter?.getType() === 'express';
    if (this.express) this.commitBeforeEnd(response, handle, () => request.protocol === 'https');
    next();
  }

  private commitBeforeEnd(
    response: ServerResponse,
    handle: SessionHandle,
    secure: () => boolean,
  ): void {
    const end = response.end;
    const committer = this.committer;
    response.end = function endAfterCommit(this: ServerResponse, ...args: unknown[]) {
      response.end = end; // once
      if (!handle.needsCommit()) return end.apply(response, args as Parameters<typeof end>);
      void committer.commit(handle, secure()).then((outcome) => {
        const replaced = response.headersSent ? undefined : applyOutcome(response, outcome);
        end.apply(response, (replaced ?? args) as Parameters<typeof end>);
      });
      return response;
    } as typeof response.end;
  }
}

/** Adds the cookie, or replaces the response when the commit failed; returns the new `end` arguments. */
function applyOutcome(
  response: ServerResponse,
  { cookie, failure }: CommitOutcome,
): unknown[] | undefined {
  if (cookie) appendSetCookie(response, cookie);
  if (!failure) return undefined;
  response.statusCode = failure.status;
  response.removeHeader('ETag');
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.setHeader('Content-Length', Buffer.byteLength(failure.body));
  if (failure.retryAfter) response.setHeader('Retry-After', failure.retryAfter);
  return [failure.body];
}
