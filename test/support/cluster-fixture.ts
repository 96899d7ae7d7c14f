import { createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import type { MessageAuthenticator } from '../../lib/cluster/message-auth';
import type { ClusterSessionOptions } from '../../lib/options/cluster-session-options.interface';
import { resolveOptions } from '../../lib/options/resolve-options';
import type { Session } from '../../lib/session/session';
import type { AnySessionData } from '../../lib/session/session-data.interface';
import { SessionHandle } from '../../lib/session/session-handle';
import type { SessionStore } from '../../lib/store/session-store';
import { waitFor } from '../../sample/support/wait-for';
import type { RedisConnectionOption } from '../../lib/redis/redis-connection.interface';

export const TEST_SECRET = 'test-secret-that-is-at-least-32-characters';

/** One node (cache, coordinator, store) in this process, started. */
export async function startNode(
  redis: RedisConnectionOption,
  overrides: Partial<ClusterSessionOptions> & { cluster?: ClusterSessionOptions['cluster'] } = {},
): Promise<ClusterSessionRuntime> {
  const runtime = new ClusterSessionRuntime(
    resolveOptions({
      secret: TEST_SECRET,
      redis,
      ...overrides,
      cluster: { heartbeatInterval: 200, subscribeTimeout: 5_000, ...overrides.cluster },
    }),
  );
  await runtime.start();
  return runtime;
}

/**
 * The store's round trips so far on `runtime`'s Redis, from `INFO commandstats`: scripts (EVAL +
 * EVALSHA) and read transactions (EXEC). Every store operation is one of them; Redis 7 also
 * counts the commands inside a script or a transaction under their own names, which is why
 * those are not summed.
 */
export async function roundTrips(
  runtime: ClusterSessionRuntime | { redis: Redis },
): Promise<number> {
  const info = (await runtime.redis.info('commandstats')) as string;
  let calls = 0;
  for (const match of info.matchAll(/cmdstat_(?:eval|evalsha|exec):calls=(\d+)/g)) {
    calls += Number(match[1]);
  }
  return calls;
}

/** Reads on `node` until it serves the session from its cache (a hit), and returns that copy. */
export async function cachedOn(node: ClusterSessionRuntime, id: string): Promise<Session> {
  return waitFor<Session | false | null>(
    async () => {
      const hits = node.store.cacheStats().hits;
      const session = await node.store.get(id);
      return node.store.cacheStats().hits === hits + 1 && session;
    },
    { what: `node ${node.options.cluster.nodeId} to serve ${id.slice(0, 8)}… from its cache` },
  ) as Promise<Session>;
}

/** Waits until `node` has received `count` more messages than `before`. */
export function received(node: ClusterSessionRuntime, before: number, count = 1) {
  return waitFor(() => node.coordinator!.stats().received >= before + count, {
    what: `${count} more messages at ${node.options.cluster.nodeId}`,
  });
}

/** The session handle a request on `node` gets for a client holding `cookie` (none: null). */
export function requestOn<T extends AnySessionData = AnySessionData>(
  node: ClusterSessionRuntime,
  cookie: { id: string; version: number } | null,
): SessionHandle<T> {
  return new SessionHandle<T>(node.store as unknown as SessionStore<T>, cookie, node.options);
}

/**
 * A Pub/Sub message body signed as nodes of earlier versions sign it (`ncs1`: HMAC-SHA1 under
 * the signing key, recovered from its inner pad); the module itself signs only in its scripts.
 */
export function signedMessage(auth: MessageAuthenticator, body: string): string {
  const key = Buffer.from(auth.innerKey.map((byte) => byte ^ 0x36));
  return `${body}|${createHmac('sha1', key).update(body).digest('hex')}`;
}
