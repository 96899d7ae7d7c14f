/** Requests a parent test sends to a cluster node process, and what the node answers. */
export type NodeRequest =
  | { op: 'create'; data: Record<string, unknown> }
  | { op: 'get'; id: string }
  | { op: 'update'; id: string; key: string; value: unknown }
  | { op: 'destroy'; id: string }
  | { op: 'stats' }
  | { op: 'resetStats' }
  /** Benchmarks: `count` sequential saves of one session. */
  | { op: 'writes'; id: string; count: number }
  /** Benchmarks: reads of `ids` in a loop for `ms` milliseconds; resolves to how many. */
  | { op: 'reads'; ids: string[]; ms: number };

export interface ReadResult {
  /** Version served, or 0 when there was no session. */
  version: number;
  /** Newest version of this id whose invalidation had reached the node when the read began (Infinity: destroyed). */
  receivedBefore: number;
  data: Record<string, unknown> | null;
}

export type NodeMessage =
  | { type: 'ready'; nodeId: string }
  | { type: 'reply'; seq: number; ok: true; result: unknown }
  | { type: 'reply'; seq: number; ok: false; error: string };
