import type { Redis } from 'ioredis';
import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import type { ClusterSessionOptions } from '../../lib/options/cluster-session-options.interface';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';
import { startNode } from './cluster-fixture';

const CHANNEL = 'session:cluster:invalidate';

/** What a suite using {@link nodesOnOneRedis} works with, for the test running now. */
export interface NodesOnOneRedis {
  readonly server: RedisServer;
  /** A plain client of the server. */
  readonly redis: Redis;
  /** Every message published on the channel since the test began, as published. */
  readonly messages: string[];
  /** The nodes started so far; stopped after each test. */
  readonly nodes: ClusterSessionRuntime[];
  /** Starts a node (with the suite's defaults) and waits until it trusts its cache. */
  node(nodeId: string, overrides?: Partial<ClusterSessionOptions>): Promise<ClusterSessionRuntime>;
  /** For the suite's `beforeEach`: a fresh server, and the tap subscribed. */
  setUp(): Promise<void>;
  /** For the suite's `afterEach`: stops the nodes, the clients and the server. */
  tearDown(): Promise<void>;
}

/**
 * A fresh redis-server per test, a plain subscriber recording the channel, and nodes in this
 * process started on demand. The suite calls `setUp` and `tearDown` from its own hooks (this
 * file is also compiled outside Jest, with the node processes the suites start).
 */
export function nodesOnOneRedis(defaults: Partial<ClusterSessionOptions> = {}): NodesOnOneRedis {
  let server: RedisServer | undefined;
  let redis: Redis | undefined;
  let tap: Redis | undefined;
  const messages: string[] = [];
  const nodes: ClusterSessionRuntime[] = [];
  const started = <V>(value: V | undefined): V => {
    if (value === undefined) {
      throw new Error('nodesOnOneRedis: used outside a test');
    }
    return value;
  };

  return {
    async setUp() {
      server = await RedisServer.start();
      redis = server.client();
      tap = server.client();
      messages.length = 0;
      tap.on('message', (_channel: string, message: string) => messages.push(message));
      await tap.subscribe(CHANNEL);
    },
    async tearDown() {
      await Promise.all(nodes.splice(0).map((n) => n.stop()));
      tap?.disconnect();
      redis?.disconnect();
      await server?.dispose();
    },
    get server() {
      return started(server);
    },
    get redis() {
      return started(redis);
    },
    messages,
    nodes,
    async node(nodeId, overrides = {}) {
      const node = await startNode(started(server).url, {
        ...defaults,
        ...overrides,
        cluster: { nodeId, ...overrides.cluster },
      });
      nodes.push(node);
      await waitFor(() => node.coordinator.isTrusted(), { what: `${nodeId} to subscribe` });
      return node;
    },
  };
}
