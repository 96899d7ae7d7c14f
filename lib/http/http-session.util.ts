import type { ExecutionContext } from '@nestjs/common';
import { handleOf } from '../session/express-session.view';
import type { SessionHandle } from '../session/session-handle';
import type { CommitOutcome } from './session-committer.service';

/** The request as either platform hands it to Nest (Express request, or Fastify request with `raw`). */
export interface HttpRequestLike {
  headers: Record<string, string | string[] | undefined>;
  protocol?: string;
  session?: unknown;
  raw?: { session?: unknown };
}

/** The response as either platform hands it to Nest, or a raw Node response. */
export interface HttpResponseLike {
  raw?: unknown;
  statusCode?: number;
  code?(status: number): unknown;
  header?(name: string, value: string): unknown;
  getHeader?(name: string): number | string | string[] | undefined;
  setHeader?(name: string, value: string | string[]): unknown;
  removeHeader?(name: string): unknown;
}

/** Headers describing the handler's body, wrong for the failure's body that replaces it. */
const BODY_HEADERS = [
  'ETag',
  'Last-Modified',
  'Content-Disposition',
  'Content-Range',
  'Content-Encoding',
  'Content-Language',
];

/**
 * The HTTP request a handler serves: a controller's, or a GraphQL resolver's (the GraphQL
 * context's \`req\`, which @nestjs/apollo always sets); undefined for other contexts.
 */
export function requestOf(context: ExecutionContext): HttpRequestLike | undefined {
  const type = context.getType<string>();
  if (type === 'http') {
    return context.switchToHttp().getRequest<HttpRequestLike>();
  }
  if (type === 'graphql') {
    return (context.getArgByIndex(2) as { req?: HttpRequestLike } | undefined)?.req;
  }
  return undefined;
}

/**
 * A gateway message's session travels with that message's own arguments: Nest hands the array
 * its guards see to the parameter decorators of the same call (spread into a copy, after the
 * guards). Nothing is kept on the socket, so no other message, earlier or concurrent, and no
 * handler the guard did not run for, can be given it. The marker goes just before the last
 * argument, the pattern (`getPattern()` reads the last one), and shows nothing of the session
 * to code that logs the arguments.
 */
class MessageSession {
  readonly #session: SessionHandle;

  constructor(session: SessionHandle) {
    this.#session = session;
  }

  get session(): SessionHandle {
    return this.#session;
  }

  toJSON(): undefined {
    return undefined;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'MessageSession';
  }
}

/**
 * The session of the request (or gateway message) a handler runs for, or undefined: outside
 * this module, or a gateway message the guard did not load a session for.
 */
export function sessionOfContext(context: ExecutionContext): SessionHandle | undefined {
  if (context.getType() === 'ws') {
    const carried = context.getArgs().find((arg) => arg instanceof MessageSession);
    return (carried as MessageSession | undefined)?.session;
  }
  const request = requestOf(context);
  return request && sessionOf(request);
}

/** Gives a gateway message's handler its session (see MessageSession). */
export function setMessageSession(context: ExecutionContext, session: SessionHandle): void {
  const args = context.getArgs();
  args.splice(Math.max(args.length - 1, 0), 0, new MessageSession(session));
}

/** A WebSocket gateway message's handshake request (socket.io's \`socket.request\`). */
export function socketRequestOf(context: ExecutionContext): HttpRequestLike | undefined {
  const client = context.switchToWs().getClient<{ request?: HttpRequestLike } | undefined>();
  return client?.request?.headers ? client.request : undefined;
}

/** The request's session handle, on Express (behind `req.session`) or Fastify (`req.raw.session`). */
export function sessionOf(request: HttpRequestLike): SessionHandle | undefined {
  return handleOf(request.session ?? request.raw?.session);
}

/** Adds a Set-Cookie header without dropping others, on either platform. */
export function appendSetCookie(response: HttpResponseLike, value: string): void {
  if (isFastifyReply(response)) {
    response.header('set-cookie', value); // Fastify appends set-cookie values
    return;
  }
  const previous = response.getHeader?.('Set-Cookie');
  const values =
    previous === undefined ? [] : Array.isArray(previous) ? previous : [String(previous)];
  response.setHeader?.('Set-Cookie', [...values, value]);
}

/**
 * Applies a commit's outcome to a response that has sent nothing yet: adds the cookie, or, when
 * the commit failed, turns the response into the failure's and returns the body to send instead.
 */
export function applyCommitOutcome(
  response: HttpResponseLike,
  { cookie, failure }: CommitOutcome,
): string | undefined {
  if (cookie) {
    appendSetCookie(response, cookie);
  }
  if (!failure) {
    return undefined;
  }
  const set = (name: string, value: string) =>
    isFastifyReply(response) ? response.header(name, value) : response.setHeader?.(name, value);
  if (isFastifyReply(response)) {
    response.code?.(failure.status);
  } else {
    response.statusCode = failure.status;
  }
  for (const name of BODY_HEADERS) {
    response.removeHeader?.(name);
  }
  set('Content-Type', 'application/json; charset=utf-8');
  set('Content-Length', String(Buffer.byteLength(failure.body)));
  if (failure.retryAfter) {
    set('Retry-After', failure.retryAfter);
  }
  return failure.body;
}

function isFastifyReply(
  response: HttpResponseLike,
): response is HttpResponseLike & Required<Pick<HttpResponseLike, 'header'>> {
  return response.raw !== undefined && typeof response.header === 'function';
}
