import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { sessionOfContext } from '../http/http-session.util';

/** Resolves the parameter; exported so SessionLoadGuard can tell which handlers use the session. */
export const sessionParamFactory = (
  key: string | undefined,
  context: ExecutionContext,
): unknown => {
  const handle = sessionOfContext(context);
  return key === undefined ? handle : handle?.get(key);
};

/**
 * The request's session, loaded before the handler runs:
 * `@Session() session: SessionHandle<MyData>`, or `@Session('cart')` for one top-level key. In a
 * controller, a GraphQL resolver (the operation's HTTP request; committed with its response), or
 * a WebSocket gateway with `@UseGuards(SessionLoadGuard)` (read-only).
 *
 * @example
 * \@Post('cart')
 * add(\@Body('item') item: string, \@Session() session: SessionHandle<{ cart?: string[] }>) {
 *   session.set('cart', [...(session.get('cart') ?? []), item]);
 * }
 *
 * @publicApi
 */
export const Session = createParamDecorator(sessionParamFactory);
