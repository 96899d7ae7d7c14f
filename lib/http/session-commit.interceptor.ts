import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { from, mergeMap, of, type Observable } from 'rxjs';
import { ClusterSessionRuntime } from '../cluster-session.runtime';
import { sessionParamFactory } from '../decorators/session.decorator';
import {
  appendSetCookie,
  sessionOf,
  type HttpRequestLike,
  type HttpResponseLike,
} from './http-session.util';
import { SessionCookieService } from './session-cookie.service';

/**
 * Loads the session before a handler that declares `@Session()` (this module's or
 * `@nestjs/common`'s), and after the handler returns commits what it changed and sets the
 * cookie, before the response is sent: the client's next request, on any node, sees it.
 */
@Injectable()
export class SessionCommitInterceptor implements NestInterceptor {
  private readonly declares = new WeakMap<object, boolean>();

  constructor(
    private readonly cookies: SessionCookieService,
    private readonly runtime: ClusterSessionRuntime,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<HttpRequestLike>();
    const handle = context.getType() === 'http' ? sessionOf(request) : undefined;
    if (!handle) return next.handle();
    // Every async step here costs (Nest binds each to an AsyncResource): take one only when needed.
    const handled = this.declaresSession(context)
      ? from(handle.load()).pipe(mergeMap(() => next.handle()))
      : next.handle();
    return handled.pipe(
      mergeMap((value: unknown) => {
        if (!handle.needsCommit()) return of(value);
        return from(
          this.runtime.track(handle.commit()).then((action) => {
            if (action) {
              const secure = request.protocol === 'https';
              appendSetCookie(
                http.getResponse<HttpResponseLike>(),
                this.cookies.serialize(action, secure),
              );
            }
            return value;
          }),
        );
      }),
    );
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
