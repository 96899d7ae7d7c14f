import type { ReadResult } from '../support/cluster-node.protocol';
import { NodeProcess } from '../support/node-process';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';

interface NodeStats {
  cache: { hits: number; misses: number };
  cluster: { flushes: number; ignored: number };
  updatesApplied: number;
}

describe('cluster coordination across Node processes', () => {
  let server: RedisServer;
  let nodes: NodeProcess[];

  beforeAll(async () => {
    server = await RedisServer.start();
    nodes = await Promise.all(['p1', 'p2', 'p3'].map((id) => NodeProcess.start(server.url, id)));
  });

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await server.dispose();
  });

  const read = (node: NodeProcess, id: string) => node.request<ReadResult>({ op: 'get', id });

  it('a change and a logout on one process are seen by the others', async () => {
    const [p1, p2, p3] = nodes;
    const id = await p1.request<string>({ op: 'create', data: { visits: 0 } });
    for (const node of [p2, p3]) {
      expect((await read(node, id)).data).toEqual({ visits: 0 });
    }

    const version = await p1.request<number>({ op: 'update', id, key: 'visits', value: 1 });
    for (const node of [p2, p3]) {
      await waitFor(async () => (await read(node, id)).version === version, {
        what: `${node.nodeId} to see the update`,
      });
    }
    await p1.request({ op: 'destroy', id });
    for (const node of [p2, p3]) {
      await waitFor(async () => (await read(node, id)).data === null, {
        what: `${node.nodeId} to see the logout`,
      });
    }
  });

  it('soak: 20,000 random operations, Pub/Sub killed twice under load, and no stale read after an invalidation', async () => {
    const OPERATIONS = 20_000;
    const CONCURRENCY = 24;
    const pool = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        nodes[i % 3].request<string>({ op: 'create', data: { n: 0 } }),
      ),
    );
    const acked = nodes.map(() => new Map<string, number>()); // per node: newest version it acknowledged
    const destroyedOn = nodes.map(() => new Set<string>());
    const flagged: string[] = [];
    let issued = 0;
    let reads = 0;
    let counter = 0;

    const operation = async (): Promise<void> => {
      const n = Math.floor(Math.random() * 3);
      const node = nodes[n];
      const slot = Math.floor(Math.random() * pool.length);
      const id = pool[slot];
      const roll = Math.random();
      if (roll < 0.65) {
        const ownAck = acked[n].get(id) ?? 0;
        const ownDestroy = destroyedOn[n].has(id);
        const result = await read(node, id);
        reads++;
        const { version, receivedBefore } = result;
        if (
          receivedBefore === Number.POSITIVE_INFINITY
            ? version > 0
            : version > 0 && version < receivedBefore
        ) {
          flagged.push(
            `${node.nodeId} served v${version} of ${id.slice(0, 6)} after the invalidation for v${receivedBefore} arrived`,
          );
        }
        if (version > 0 && (version < ownAck || ownDestroy)) {
          flagged.push(
            `${node.nodeId} served v${version} of ${id.slice(0, 6)} after its own write v${ownAck}${ownDestroy ? ' / destroy' : ''}`,
          );
        }
      } else if (roll < 0.94) {
        const version = await node.request<number>({
          op: 'update',
          id,
          key: `k${counter % 5}`,
          value: ++counter,
        });
        if (version > 0) {
          acked[n].set(id, Math.max(version, acked[n].get(id) ?? 0));
        }
      } else {
        pool[slot] = await node.request<string>({ op: 'create', data: { n: 0 } });
        await node.request({ op: 'destroy', id });
        destroyedOn[n].add(id);
      }
    };

    const worker = async (): Promise<void> => {
      while (issued < OPERATIONS) {
        issued++;
        if (issued === 6_000 || issued === 13_000) {
          await server.killPubSubClients();
        }
        await operation();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    const stats = await Promise.all(nodes.map((node) => node.request<NodeStats>({ op: 'stats' })));
    expect(flagged).toEqual([]);
    expect(reads).toBeGreaterThan(12_000);
    // the run exercised the cache and the faults, not only Redis
    expect(stats.reduce((sum, s) => sum + s.cache.hits, 0)).toBeGreaterThan(1_000);
    // in 'update' propagation (the default): other nodes' saves applied to cached copies
    expect(stats.reduce((sum, s) => sum + s.updatesApplied, 0)).toBeGreaterThan(500);
    for (const s of stats) {
      expect(s.cluster.flushes).toBeGreaterThanOrEqual(3);
    }
  }, 120_000);
});
