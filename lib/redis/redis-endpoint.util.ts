import { Cluster, type Redis } from 'ioredis';

/**
 * Where a client connects, for logs and health: `host:port`, the Sentinel primary's name and its
 * sentinels, or a Cluster's nodes. Never a password or a URL's credentials.
 */
export function describeEndpoint(client: Redis | Cluster): string {
  if (client instanceof Cluster) {
    const nodes = client.nodes('all').map(({ options }) => `${options.host}:${options.port}`);
    return `Redis Cluster ${nodes.length > 0 ? nodes.join(', ') : '(no node known yet)'}`;
  }
  const { host, port, path, sentinels, name } = client.options;
  if (sentinels?.length) {
    const list = sentinels.map(({ host: h, port: p }) => `${h ?? '127.0.0.1'}:${p ?? 26379}`);
    return `Redis primary "${name}" via Sentinel ${list.join(', ')}`;
  }
  return `Redis at ${path ?? `${host ?? '127.0.0.1'}:${port ?? 6379}`}`;
}
