import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { CLUSTER_SESSION_OPTIONS } from '../cluster-session.constants';
import type { ResolvedClusterSessionOptions } from '../options/cluster-session-options.interface';
import { SessionHandle } from '../session/session-handle';
import { SessionStore } from '../store/session-store';
import { SessionCookieService } from './session-cookie.service';

/**
 * Gives every request a lazy session handle (`req.session`) before guards run; reading Redis
 * waits until the session is used. Runs on Express and Fastify (where `req` is the raw request;
 * the module exposes it on the Fastify request too).
 */
@Injectable()
export class SessionMiddleware implements NestMiddleware {
  constructor(
    private readonly store: SessionStore,
    private readonly cookies: SessionCookieService,
    @Inject(CLUSTER_SESSION_OPTIONS) private readonly options: ResolvedClusterSessionOptions,
  ) {}

  use(
    request: { headers: { cookie?: string }; session?: SessionHandle },
    _response: unknown,
    next: () => void,
  ): void {
    const { touchAfter, saveUninitialized } = this.options;
    request.session = new SessionHandle(this.store, this.cookies.read(request.headers.cookie), {
      touchAfter,
      saveUninitialized,
    });
    next();
  }
}
