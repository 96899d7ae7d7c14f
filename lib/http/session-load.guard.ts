import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { sessionParamFactory } from '../decorators/session.decorator';
import { ClusterSessionError } from '../errors/cluster-session.error';
import { sessionOf, type HttpRequestLike } from './http-session.util';

/**
 * Loads the session before a handler that declares `@Session()` (this module's or
 * `@nestjs/common`'s); other handlers never touch Redis. A guard rather than an interceptor:
 * Nest binds every interceptor step to an AsyncResource, which costs more per request than the
 * whole session on a cache hit. Never denies a request; a Redis failure becomes a 503.
 */
@Injectable()
export class SessionLoadGuard implements CanActivate {
  private readonly declares = new WeakMap<object, boolean>();

  canActivate(context: ExecutionContext): true | Promise<true> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<HttpRequestLike>();
    const handle = sessionOf(request);
    if (!this.declaresSession(context)) return true;
    if (!handle) {
      if (request.session === undefined && request.raw?.session === undefined) return true;
      throw new ClusterSessionError(
        'req.session was replaced by another session middleware (is express-session still mounted ' +
          'with app.use(session(...))?): remove it, ClusterSessionModule provides req.session',
      );
    }
    return handle.load().then(() => true);
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
