import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ClusterSessionError } from '../errors/cluster-session.error';
import { sessionOfContext } from '../http/http-session.util';

/** Resolves the parameter; exported so SessionLoadGuard can tell which handlers use the session. */
export const sessionParamFactory = (
  key: string | undefined,
  context: ExecutionContext,
): unknown => {
  const handle = sessionOfContext(context);
  if (handle === undefined) {
    throw new ClusterSessionError(whatIsMissing(context));
  }
  return key === undefined ? handle : handle.get(key);
};

/** Why a handler asking for `@Session()` has none, and what to add. */
function whatIsMissing(context: ExecutionContext): string {
  if (context.getType() === 'ws') {
    return "@Session() in a WebSocket gateway found no session for this message: add @UseGuards(SessionLoadGuard) to the gateway or to the handler (it loads the handshake's session for each message)";
  }
  return "@Session() found no session on this request: import ClusterSessionModule.forRoot(...) (or forRootAsync) in the application's root module, which loads the session for every route; @Session() is this package's decorator, and needs that module";
}

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
