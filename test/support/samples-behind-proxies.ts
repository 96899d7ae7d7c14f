import type { Redis } from 'ioredis';
import { RedisServer } from '../../sample/support/redis-server';
import { SampleProcess } from '../../sample/support/sample-process';
import { TcpProxy } from './tcp-proxy';

/** Sample processes on one Redis, each talking to it through its own fault proxy. */
export interface SamplesBehindProxies {
  server: RedisServer;
  /** A plain client of the server (no proxy). */
  redis: Redis;
  proxies: TcpProxy[];
  nodes: SampleProcess[];
  /** Stops the nodes, the proxies, the client and the server. */
  stop(): Promise<void>;
}

/** Starts `count` sample nodes (`<prefix>0`, `<prefix>1`…) with `env`, each behind a proxy. */
export async function samplesBehindProxies(
  count: number,
  prefix: string,
  env: Record<string, string>,
): Promise<SamplesBehindProxies> {
  const server = await RedisServer.start();
  const redis = server.client();
  const proxies = await Promise.all(
    Array.from({ length: count }, () => TcpProxy.start(server.port)),
  );
  const nodes = await Promise.all(
    proxies.map((proxy, i) =>
      SampleProcess.start({ ...env, REDIS_URL: proxy.url, NODE_ID: `${prefix}${i}` }),
    ),
  );
  return {
    server,
    redis,
    proxies,
    nodes,
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()));
      await Promise.all(proxies.map((proxy) => proxy.close()));
      redis.disconnect();
      await server.dispose();
    },
  };
}
