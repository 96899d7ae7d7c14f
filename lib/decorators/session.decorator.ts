import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { sessionOf, type HttpRequestLike } from '../http/http-session.util';

/** Resolves the parameter; exported so the interceptor can tell which handlers use the session. */
export const sessionParamFactory = (
  key: string | undefined,
  context: ExecutionContext,
): unknown => {
  const handle = sessionOf(context.switchToHttp().getRequest<HttpRequestLike>());
  return key === undefined ? handle : handle?.get(key);
};

/**
 * The request's session, loaded before the handler runs:
 * `@Session() session: SessionHandle<MyData>`, or `@Session('cart')` for one top-level key.
 */
export const Session = createParamDecorator(sessionParamFactory);
