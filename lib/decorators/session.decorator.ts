import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { requestOf, sessionOf } from '../http/http-session.util';

/** Resolves the parameter; exported so the interceptor can tell which handlers use the session. */
export const sessionParamFactory = (
  key: string | undefined,
  context: ExecutionContext,
): unknown => {
  const request = requestOf(context);
  const handle = request && sessionOf(request);
  return key === undefined ? handle : handle?.get(key);
};

/**
 * The request's session, loaded before the handler runs:
 * `@Session() session: SessionHandle<MyData>`, or `@Session('cart')` for one top-level key. In a
 * controller, or a GraphQL resolver (the operation's HTTP request; committed with its response).
 */
export const Session = createParamDecorator(sessionParamFactory);
