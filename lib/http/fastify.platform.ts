import type { ServerResponse } from 'node:http';
import { ClusterSessionError } from '../errors/cluster-session.error';
import { sessionIdOf } from './express.platform';
import {
  applyCommitOutcome,
  sessionOf,
  type HttpRequestLike,
  type HttpResponseLike,
} from './http-session.util';
import type { SessionCommitter } from './session-committer.service';
import type { MiddlewareRequest, SessionMiddleware } from './session.middleware';

/** The part of the Fastify API this module uses. */
export interface FastifyInstanceLike {
  addHook(
    name: 'onRequest',
    hook: (
      request: { raw: MiddlewareRequest; protocol?: string },
      reply: { raw: ServerResponse },
      done: () => void,
    ) => void,
  ): void;
  addHook(
    name: 'onSend',
    hook: (request: HttpRequestLike, reply: HttpResponseLike, payload: unknown) => Promise<unknown>,
  ): void;
  hasRequestDecorator(name: string): boolean;
  decorateRequest(name: string, value: { getter(this: { raw: MiddlewareRequest }): unknown }): void;
}

/** `sessionID` on a raw request: one shared descriptor, its getter reads `this`. */
const RAW_SESSION_ID: PropertyDescriptor = {
  configurable: true,
  get(this: MiddlewareRequest) {
    return sessionIdOf(this);
  },
};

/** Fastify instances whose `request.session` this module decorated. */
const OWN_DECORATION = new WeakSet<object>();

/**
 * Fastify: middleware sees the raw request, so the session (and `sessionID`) is exposed on the
 * Fastify request too, for Nest's `@Session()` and Fastify plugins. The session is loaded in
 * `onRequest` and committed in `onSend`, before the reply is written (stream payloads too). What
 * bypasses `onSend` (`@Sse()` routes, `reply.hijack()` and writes to `reply.raw`) goes to the raw
 * response, gated as on Express; after `onSend` has committed, the gate lets the reply through.
 */
export function installOnFastify(
  fastify: FastifyInstanceLike,
  middleware: SessionMiddleware,
  committer: SessionCommitter,
): void {
  if (OWN_DECORATION.has(fastify)) {
    return;
  }
  if (fastify.hasRequestDecorator('session')) {
    // left alone, requests would see that plugin's session and this module would store nothing
    throw new ClusterSessionError(
      'request.session is already decorated on this Fastify instance (by @fastify/session, ' +
        '@fastify/secure-session or another plugin): remove that plugin, ClusterSessionModule provides request.session',
    );
  }
  OWN_DECORATION.add(fastify);
  fastify.decorateRequest('session', {
    getter() {
      return this.raw.session;
    },
  });
  fastify.decorateRequest('sessionID', {
    getter() {
      return sessionIdOf(this.raw);
    },
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    Object.defineProperty(request.raw, 'sessionID', RAW_SESSION_ID); // raw middleware reads it too
    middleware.start(request.raw, reply.raw, request, done);
  });
  fastify.addHook('onSend', async (request, reply, payload) => {
    const handle = sessionOf(request);
    if (!handle?.needsCommit()) {
      return payload;
    }
    const outcome = await committer.commit(handle, request.protocol === 'https');
    const failureBody = applyCommitOutcome(reply, outcome);
    if (failureBody === undefined) {
      return payload;
    }
    // a stream payload replaced by the failure would keep its source (a file) open
    (payload as { destroy?: () => void } | null)?.destroy?.();
    return failureBody;
  });
}
