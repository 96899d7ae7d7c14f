import type { Cluster, Redis } from 'ioredis';

/** Methods that are not Redis commands answered by Redis: never raced. */
const NOT_COMMANDS = new Set(['connect', 'quit', 'disconnect', 'duplicate', 'defineCommand']);

/**
 * A view of `client` whose commands fail once `commandTimeout` has passed since they were
 * issued, not since they were sent. With auto-pipelining ioredis keeps one pipeline in flight per
 * connection and starts a command's timer when its pipeline goes out, so behind a pipeline that
 * Redis does not answer (a paused server) a command would wait up to twice the timeout; this
 * keeps "a request that needs Redis fails within `commandTimeout`". ioredis' own timer still
 * runs, and a command failed here may still be sent and run later, as one timed out by ioredis
 * may have run: callers treat both as "may or may not have happened". Without auto-pipelining or
 * without a timeout, `client` itself is returned.
 */
export function withCommandDeadline<C extends Redis | Cluster>(client: C): C {
  const { enableAutoPipelining } = client.options;
  const timeout = commandTimeoutOf(client);
  if (!enableAutoPipelining || timeout === undefined) {
    return client;
  }
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(client, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function' || NOT_COMMANDS.has(String(property))) {
        return value;
      }
      let command = wrapped.get(property);
      if (!command) {
        command = (...args: unknown[]) => {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          return isPromise(result) ? withDeadline(result, timeout) : result;
        };
        wrapped.set(property, command);
      }
      return command;
    },
  });
}

/**
 * Why `client` would refuse a command unsent (not ready, and no offline queue), as an error to
 * throw; null when it would send it.
 */
export function unsendable(client: Redis | Cluster): Error | null {
  const { status, options } = client as {
    status: string;
    options: { enableOfflineQueue?: boolean };
  };
  return status !== 'ready' && options.enableOfflineQueue === false
    ? new Error(`Redis connection is ${status}`)
    : null;
}

/** The client's command timeout (a Cluster's, per node), ms; undefined when it has none. */
export function commandTimeoutOf(client: Redis | Cluster): number | undefined {
  const timeout = isCluster(client)
    ? client.options.redisOptions?.commandTimeout
    : client.options.commandTimeout;
  return typeof timeout === 'number' && timeout > 0 ? timeout : undefined;
}

/** `reply`, or a rejection once `ms` have passed without it. */
export function withDeadline<R>(reply: Promise<R>, ms: number): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Command timed out: no reply within ${ms} ms of being issued`)),
      ms,
    );
    reply.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function isCluster(client: Redis | Cluster): client is Cluster {
  return 'isCluster' in client && client.isCluster === true;
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as Promise<unknown> | null)?.then === 'function';
}
