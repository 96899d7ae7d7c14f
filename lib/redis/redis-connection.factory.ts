import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import type {
  RedisClusterOptions,
  RedisConnection,
  RedisConnectionOption,
} from './redis-connection.interface';

/**
 * Defaults under the user's own options. A dead Redis must fail a request fast, with a typed
 * error, rather than hang it: commands time out, and nothing is queued while disconnected.
 */
export const COMMAND_CONNECTION_DEFAULTS: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 2_000,
  connectTimeout: 2_000,
  // ioredis arms this timer even when the socket is already closed; keep shutdown short
  disconnectTimeout: 200,
  // TCP keepalive after 30 s idle: ioredis 6's default, set so that ioredis 5 (default 0, the
  // system's two hours) notices a silently dropped connection as soon
  keepAlive: 30_000,
  retryStrategy: (attempt: number) => retryDelay(attempt),
  // a primary demoted by a Sentinel failover answers writes with READONLY: reconnect, and
  // Sentinel names the new primary (the failed command is not resent: the request gets a 503)
  reconnectOnError: (error: Error) => (error.message.startsWith('READONLY') ? 1 : false),
  // a command in flight when the connection drops may have run: sending it again by itself
  // would run it twice. The store sends its writes again as retries that the scripts recognise
  // (G11, lost-replies.ts); reads it simply fails
  autoResendUnfulfilledCommands: false,
  // the commands of one event-loop turn go in one write (one pipeline in flight at a time): Redis
  // then reads, runs and answers a burst of saves in one wake-up instead of one each, which is
  // most of a write's Redis CPU when writes arrive one by one (BENCHMARKS.md, #17). Not on
  // Cluster, whose pipelines do not follow a MOVED that only part of them got.
  enableAutoPipelining: true,
};

/**
 * Cluster defaults: fail fast like a single connection (no offline queue), follow MOVED/ASK and
 * wait out TRYAGAIN during slot migrations, refresh the slot map when nodes come and go.
 */
export const CLUSTER_CONNECTION_DEFAULTS: ClusterOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRedirections: 16,
  retryDelayOnMoved: 0,
  retryDelayOnTryAgain: 50,
  retryDelayOnClusterDown: 100,
  retryDelayOnFailover: 100,
  clusterRetryStrategy: (attempt: number) => retryDelay(attempt),
};

function retryDelay(attempt: number): number {
  return Math.min(50 * 2 ** attempt, 1_000);
}

/**
 * The subscriber only subscribes and pings. It does not resubscribe by itself: the coordinator
 * does, so it knows the moment the subscription is back and the cache can be trusted again.
 */
export const SUBSCRIBER_CONNECTION_DEFAULTS: RedisOptions = {
  ...COMMAND_CONNECTION_DEFAULTS,
  enableOfflineQueue: true,
  autoResubscribe: false,
  maxRetriesPerRequest: null,
  commandTimeout: undefined,
  enableAutoPipelining: false,
};

export function isRedisInstance(value: unknown): value is Redis | Cluster {
  return value instanceof Redis || value instanceof Cluster;
}

export function isClusterOptions(value: unknown): value is RedisClusterOptions {
  return typeof value === 'object' && value !== null && 'clusterNodes' in value;
}

/** True when the option names a Redis Cluster (an ioredis `Cluster`, or `clusterNodes`). */
export function isClusterConnection(option: RedisConnectionOption): boolean {
  return option instanceof Cluster || isClusterOptions(option);
}

/** The command connection: a user's instance as it is (not owned), or a new one (owned). */
export function createRedisConnection(option: RedisConnectionOption): RedisConnection {
  if (isRedisInstance(option)) {
    return { client: option, owned: false };
  }
  if (isClusterOptions(option)) {
    const { clusterNodes, clusterOptions = {} } = option;
    const client = new Cluster(clusterNodes, {
      ...CLUSTER_CONNECTION_DEFAULTS,
      ...clusterOptions,
      redisOptions: { ...NODE_DEFAULTS, ...clusterOptions.redisOptions },
    });
    return { client, owned: true };
  }
  return { client: build(option, COMMAND_CONNECTION_DEFAULTS), owned: true };
}

/** Per-node options inside a Cluster: the command defaults the Cluster does not manage itself. */
const NODE_DEFAULTS: RedisOptions = {
  commandTimeout: COMMAND_CONNECTION_DEFAULTS.commandTimeout,
  connectTimeout: COMMAND_CONNECTION_DEFAULTS.connectTimeout,
  disconnectTimeout: COMMAND_CONNECTION_DEFAULTS.disconnectTimeout,
  maxRetriesPerRequest: 1,
  autoResendUnfulfilledCommands: false,
};

/**
 * The dedicated subscriber connection, always owned. Built from the same input as the command
 * connection, or as a `duplicate()` of the user's instance, so it carries the whole
 * configuration (TLS, password, db, Sentinel, Cluster nodes), not a partial copy.
 */
export function createSubscriberConnection(option: RedisConnectionOption): RedisConnection {
  if (option instanceof Cluster) {
    return { client: clusterSubscriber(option, startupNodes(option)), owned: true };
  }
  if (isClusterOptions(option)) {
    const { clusterNodes, clusterOptions = {} } = option;
    return {
      client: clusterSubscriber(undefined, clusterNodes, clusterOptions.redisOptions),
      owned: true,
    };
  }
  // A duplicate connects when this module says so, not at construction.
  if (option instanceof Redis) {
    return {
      client: option.duplicate({
        lazyConnect: true,
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
      }),
      owned: true,
    };
  }
  return { client: build(option, SUBSCRIBER_CONNECTION_DEFAULTS), owned: true };
}

/**
 * The subscriber for a Redis Cluster: one plain connection to any node, since a classic
 * `PUBLISH` reaches every node of the cluster. When it drops it reconnects to the next node
 * (those the cluster knows now, else the seeds), so losing one node loses the subscription only
 * until the next attempt; the coordinator resubscribes and flushes as after any reconnection.
 */
function clusterSubscriber(
  cluster: Cluster | undefined,
  seeds: ClusterNode[],
  redisOptions: RedisOptions = cluster?.options.redisOptions ?? {},
): Redis {
  const fallback = seeds.map(hostAndPort);
  const nodes = () => {
    const known = cluster?.nodes('all').map(({ options }) => hostAndPort(options)) ?? [];
    return known.length > 0 ? known : fallback;
  };
  let turn = 0;
  const first = nodes()[0] ?? { host: '127.0.0.1', port: 6379 };
  const client: Redis = new Redis({
    ...SUBSCRIBER_CONNECTION_DEFAULTS,
    ...redisOptions,
    ...first,
    // ioredis reads host and port when it connects: each retry goes to the next node
    retryStrategy: (attempt: number) => {
      const list = nodes();
      Object.assign(client.options, list[++turn % list.length]);
      return retryDelay(attempt);
    },
  });
  return client;
}

function hostAndPort(node: ClusterNode | RedisOptions): { host: string; port: number } {
  if (typeof node === 'number') {
    return { host: '127.0.0.1', port: node };
  }
  if (typeof node === 'string') {
    const { hostname, port } = new URL(node.includes('://') ? node : `redis://${node}`);
    return { host: hostname || '127.0.0.1', port: Number(port) || 6379 };
  }
  return { host: node.host ?? '127.0.0.1', port: node.port ?? 6379 };
}

/** The seeds an ioredis Cluster was built with (not part of its typed API). */
function startupNodes(cluster: Cluster): ClusterNode[] {
  const seeds = (cluster as unknown as { startupNodes?: ClusterNode[] }).startupNodes;
  return Array.isArray(seeds) ? seeds : [];
}

function build(option: string | RedisOptions, defaults: RedisOptions): Redis {
  if (typeof option === 'string') {
    return new Redis(option, { ...defaults });
  }
  // With Sentinel, a failover must end every connection to the old primary, the subscriber's
  // too (it would otherwise stay on a replica): listen for +switch-master and reconnect.
  const sentinel: RedisOptions = option.sentinels ? { failoverDetector: true } : {};
  return new Redis({ ...defaults, ...sentinel, ...option });
}

/**
 * Rejects the commands in flight when a connection that does not resend them closes. ioredis
 * up to 6.0 drops them without settling them (redis/ioredis#2193): each would wait out its
 * command timeout, and with auto-pipelining every later command would wait behind them. (A
 * command settled twice, by this and by a fixed ioredis, keeps its first outcome.)
 */
export function settleDroppedCommands(client: Redis | Cluster): void {
  if (client instanceof Cluster) {
    for (const node of client.nodes('all')) {
      settleDroppedCommandsOf(node);
    }
    client.on('+node', (node: Redis) => settleDroppedCommandsOf(node));
    return;
  }
  settleDroppedCommandsOf(client);
}

interface InFlight {
  command: { reject?: (error: Error) => void };
}

function settleDroppedCommandsOf(client: Redis): void {
  if (client.options.autoResendUnfulfilledCommands !== false) {
    return; // ioredis sends them again itself
  }
  client.on('close', () => {
    // (ioredis moves these to the queue it would resend after emitting 'close')
    const queue = (client as unknown as { commandQueue?: { toArray?: () => InFlight[] } })
      .commandQueue;
    for (const { command } of queue?.toArray?.() ?? []) {
      command.reject?.(new Error('Connection is closed.'));
    }
  });
}

/** Connects a lazily-created client; a no-op when it is already connecting or connected. */
export async function connectRedis(client: Redis | Cluster): Promise<void> {
  if (client.status === 'wait') {
    await client.connect();
  }
}

/**
 * Closes a connection this module owns and waits until it has ended: QUIT when connected (pending
 * replies arrive first), disconnect otherwise; a client already ended is skipped.
 */
/** How long closing waits for a connection's 'end' before it disconnects it outright. */
const CLOSE_WAIT_MS = 1_000;

export async function closeRedis({ client, owned }: RedisConnection): Promise<void> {
  if (!owned || client.status === 'end') {
    return;
  }
  if (client.status === 'reconnecting' || client.status === 'close') {
    // the socket is already closed: disconnect() only cancels the retry, and emits no 'end'
    client.disconnect();
    return;
  }
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  if (client.status === 'ready') {
    await client.quit().catch(() => client.disconnect());
  } else {
    client.disconnect();
  }
  // a connection caught between states while Redis is down may never say 'end': shutdown must
  // not hang on it
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>(
    (resolve) => (timer = setTimeout(() => resolve(true), CLOSE_WAIT_MS)),
  );
  if (await Promise.race([ended.then(() => false), late])) {
    client.disconnect();
  }
  clearTimeout(timer);
  // ioredis closes the Sentinel failover detector's connections only from disconnect(), not
  // when QUIT ends the connection: without this they would keep the process alive
  if (client instanceof Redis && client.options.sentinels) {
    client.disconnect();
  }
}
