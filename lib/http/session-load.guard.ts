import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { sessionParamFactory } from '../decorators/session.decorator';
import { ClusterSessionError } from '../errors/cluster-session.error';
import { CLUSTER_SESSION_OPTIONS } from '../cluster-session.constants';
import type { ResolvedClusterSessionOptions } from '../options/cluster-session-options.interface';
import { readOnlySession } from '../session/read-only-session';
import { SessionHandle } from '../session/session-handle';
import { SessionStore } from '../store/session-store';
import {
  requestOf,
  sessionOf,
  sessionOfContext,
  setMessageSession,
  socketRequestOf,
} from './http-session.util';
import { SessionCookieService } from './session-cookie.service';

/**
 * Loads the session before a handler that declares `@Session()` (this module's or
 * `@nestjs/common`'s): a controller's, a GraphQL resolver's, or a WebSocket gateway's (read-only,
 * named by the handshake's cookie, read afresh for every message); other handlers never touch
 * Redis. A guard rather than an interceptor: Nest binds every interceptor step to an
 * AsyncResource, which costs more per request than the whole session on a cache hit. Never
 * denies a request; a Redis failure becomes a 503 (over HTTP) or the gateway's error.
 *
 * @example
 * \@WebSocketGateway()
 * \@UseGuards(SessionLoadGuard)
 * export class PresenceGateway {
 *   \@SubscribeMessage('whoami')
 *   whoami(\@Session('username') username: string | undefined) {
 *     return username ?? null;
 *   }
 * }
 *
 * @publicApi
 */
@Injectable()
export class SessionLoadGuard implements CanActivate {
  private readonly declares = new WeakMap<object, boolean>();

  /** What a gateway message's session is read with, found on first use. */
  private socketDeps?: {
    store: SessionStore;
    cookies: SessionCookieService;
    options: ResolvedClusterSessionOptions;
  };

  /**
   * Only the module reference: on a gateway the guard is instantiated in the gateway's own
   * module (\`@UseGuards\`), which need not import this one, so it finds the session's parts
   * across modules when a gateway first needs them.
   */
  constructor(private readonly moduleRef: ModuleRef) {}

  canActivate(context: ExecutionContext): true | Promise<true> {
    if (context.getType() === 'ws') {
      return this.loadForSocket(context);
    }
    const request = requestOf(context);
    if (!request) {
      return true;
    }
    const handle = sessionOf(request);
    if (!this.declaresSession(context)) {
      return true;
    }
    if (!handle) {
      if (request.session === undefined && request.raw?.session === undefined) {
        return true;
      }
      throw new ClusterSessionError(
        'req.session was replaced by another session middleware (is express-session still mounted ' +
          'with app.use(session(...))?): remove it, ClusterSessionModule provides req.session',
      );
    }
    return handle.load().then(() => true);
  }

  /** A gateway message: the session of the socket's handshake cookie as it is now, read-only. */
  private loadForSocket(context: ExecutionContext): true | Promise<true> {
    const request = socketRequestOf(context);
    // NestJS 12 runs global guards for gateways too: with @UseGuards(SessionLoadGuard) as well,
    // the second run finds this message's session already read
    if (!request || !this.declaresSession(context) || sessionOfContext(context) !== undefined) {
      return true;
    }
    const { store, cookies, options } = (this.socketDeps ??= {
      store: this.moduleRef.get(SessionStore, { strict: false }),
      cookies: this.moduleRef.get(SessionCookieService, { strict: false }),
      options: this.moduleRef.get(CLUSTER_SESSION_OPTIONS, { strict: false }),
    });
    const handle = new SessionHandle(store, cookies.read(request.headers.cookie), options);
    return handle.load().then(() => {
      // kept aside for this socket's handler, not on the socket: a handler without @Session()
      // never sees it
      setMessageSession(context, readOnlySession(handle));
      return true;
    });
  }

  private declaresSession(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let declares = this.declares.get(handler);
    if (declares === undefined) {
      const args: Record<string, { factory?: unknown }> =
        Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ?? {};
      declares = Object.entries(args).some(
        ([key, arg]) =>
          key.startsWith(`${RouteParamtypes.SESSION}:`) || arg.factory === sessionParamFactory,
      );
      this.declares.set(handler, declares);
    }
    return declares;
  }
}
