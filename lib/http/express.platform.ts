import type { ServerResponse } from 'node:http';
import { handleOf } from '../session/express-session.view';
import { ResponseGate } from './response-gate';
import type { SessionCommitter } from './session-committer.service';
import type { MiddlewareRequest, SessionMiddleware } from './session.middleware';

/** The part of an Express application this module uses. */
interface ExpressAppLike {
  use(fn: (req: MiddlewareRequest, res: ServerResponse, next: () => void) => void): void;
  /** The prototype of every request. */
  request: object;
  /** The prototype of every response. */
  response: object;
}

/**
 * Express: the session middleware goes straight onto the application (Nest's middleware layer
 * costs more per request than the middleware itself), installed as soon as the adapter exists,
 * so it runs before whatever main.ts mounts with `app.use()` (Passport, connect-flash…). The
 * response gate, on the application's response prototype, commits before the first byte leaves.
 * `req.sessionID` is a getter on the request prototype, as express-session sets it.
 */
export function installOnExpress(
  app: ExpressAppLike,
  middleware: SessionMiddleware,
  committer: SessionCommitter,
): void {
  Object.defineProperty(app.request, 'sessionID', {
    configurable: true,
    get(this: MiddlewareRequest) {
      return sessionIdOf(this);
    },
  });
  // on the prototype of this application's responses: no wrapper per response
  ResponseGate.installOnPrototype(app.response, committer, (req) =>
    handleOf((req as MiddlewareRequest | undefined)?.session),
  );
  app.use((req, res, next) => middleware.start(req, res, req, next, false));
}

/** The id of the request's session, or undefined when it has none (not loaded, Redis down). */
export function sessionIdOf(request: MiddlewareRequest): string | undefined {
  const handle = handleOf(request.session);
  return handle?.isLoaded ? handle.id : undefined;
}
