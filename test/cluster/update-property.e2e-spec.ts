import fc from 'fast-check';
import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import type { ClusterStats } from '../../lib/cluster/cluster-stats.interface';
import type { CopyResult, ReadResult } from '../support/cluster-node.protocol';
import { startNode } from '../support/cluster-fixture';
import { NodeProcess } from '../support/node-process';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';

interface NodeStats {
  cluster: ClusterStats;
  updatesApplied: number;
}

/** One client: its session (null once logged out) and the newest version it has seen (its cookie). */
interface Client {
  id: string | null;
  seen: number;
}

type Step =
  | { kind: 'read'; client: number; node: number }
  | {
      kind: 'write';
      client: number;
      node: number;
      key: string;
      /** null: the key is removed */
      value: number | null;
      user?: string | null;
    }
  | { kind: 'regenerate'; client: number; node: number }
  | { kind: 'destroy'; client: number; node: number };

const CLIENTS = 8;
const NODES = 3;

/** Who does a step, and where. */
const at = { client: fc.nat(CLIENTS - 1), node: fc.nat(NODES - 1) };
const plain = <K extends Exclude<Step['kind'], 'write'>>(kind: K) =>
  fc.record({ kind: fc.constant(kind), ...at });
const write = fc.record(
  {
    kind: fc.constant('write' as const),
    ...at,
    key: fc.constantFrom('a', 'b', 'c'),
    value: fc.option(fc.nat(1_000), { freq: 4 }),
    user: fc.constantFrom('alice', 'bob', null),
  },
  { requiredKeys: ['kind', 'client', 'node', 'key', 'value'] },
);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: plain('read') },
  { weight: 5, arbitrary: write },
  { weight: 1, arbitrary: plain('regenerate') },
  { weight: 1, arbitrary: plain('destroy') },
);

/**
 * #23: random interleavings of saves, destroys and regenerates on three real processes, in
 * 'update' propagation. Each client's steps run in order, the clients' steps concurrently.
 * Checked: no read returns a version older than one its client had seen (G9, G1), and once
 * quiet every copy a node serves from its cache is what Redis holds.
 */
describe('update propagation across processes (property)', () => {
  let server: RedisServer;
  let nodes: NodeProcess[];
  let truth: ClusterSessionRuntime;

  beforeAll(async () => {
    server = await RedisServer.start();
    nodes = await Promise.all(['q1', 'q2', 'q3'].map((id) => NodeProcess.start(server.url, id)));
    // reads Redis only: no Pub/Sub, no cache
    truth = await startNode(server.url, { cluster: { enabled: false } });
  });

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await truth.stop();
    await server.dispose();
  });

  const stats = () => Promise.all(nodes.map((node) => node.request<NodeStats>({ op: 'stats' })));

  it('every cached copy ends as Redis holds it, and no client ever reads backwards', async () => {
    let applied = 0;
    let hits = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 60, maxLength: 120 }), async (steps) => {
        const clients: Client[] = await Promise.all(
          Array.from({ length: CLIENTS }, async (_, i) => ({
            id: await nodes[i % NODES].request<string>({ op: 'create', data: { a: 0 } }),
            seen: 1,
          })),
        );
        const ids = new Set(clients.map((client) => client.id!));
        // every node holds every session, so that updates have copies to apply to
        for (const node of nodes) {
          for (const id of ids) {
            await node.request({ op: 'get', id });
          }
        }
        const violations: string[] = [];
        const run = async (client: Client, own: Step[]) => {
          for (const s of own) {
            const node = nodes[s.node];
            if (client.id === null) {
              return;
            }
            const id = client.id;
            if (s.kind === 'read') {
              const read = await node.request<ReadResult>({
                op: 'get',
                id,
                minVersion: client.seen,
              });
              if (read.version > 0 && read.version < client.seen) {
                violations.push(
                  `${node.nodeId} served v${read.version} of a client that had seen v${client.seen}`,
                );
              }
              client.seen = Math.max(client.seen, read.version);
            } else if (s.kind === 'write') {
              const { key, value, user } = s;
              const version = await node.request<number>({
                op: 'update',
                id,
                key,
                value,
                user,
                minVersion: client.seen,
              });
              if (version > 0 && version <= client.seen) {
                violations.push(
                  `${node.nodeId} wrote v${version} after the client had seen v${client.seen}`,
                );
              }
              client.seen = Math.max(client.seen, version);
            } else if (s.kind === 'regenerate') {
              client.id = await node.request<string | null>({ op: 'regenerate', id });
              if (client.id) {
                ids.add(client.id);
              }
            } else {
              await node.request({ op: 'destroy', id });
              client.id = null;
            }
          }
        };
        await Promise.all(
          clients.map((client, i) =>
            run(
              client,
              steps.filter((s) => s.client === i),
            ),
          ),
        );
        expect(violations).toEqual([]);

        // quiet: every node has received every message sent
        await waitFor(
          async () => {
            const all = await stats();
            const sent = all.reduce((sum, s) => sum + s.cluster.sent, 0);
            return all.every((s) => s.cluster.received === sent);
          },
          { what: 'every message to reach every node' },
        );
        for (const id of ids) {
          const stored = await truth.store.get(id);
          for (const node of nodes) {
            const copy = await node.request<CopyResult | null>({ op: 'cachedCopy', id });
            if (copy === null) {
              continue;
            }
            hits++;
            expect({ node: node.nodeId, ...copy }).toEqual({
              node: node.nodeId,
              version: stored?.version,
              userId: stored?.userId,
              data: stored?.data,
            });
          }
        }
        applied = (await stats()).reduce((sum, s) => sum + s.updatesApplied, 0);
      }),
      { numRuns: 6 },
    );
    // the runs exercised the update path and compared real cached copies
    expect(applied).toBeGreaterThan(20);
    expect(hits).toBeGreaterThan(20);
  }, 120_000);
});
