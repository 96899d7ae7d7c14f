/** Requests a parent test sends to a cluster node process, and what the node answers. */
export type NodeRequest =
  | { op: 'create'; data: Record<string, unknown> }
  /** `minVersion`: the version in the client's cookie (G9). */
  | { op: 'get'; id: string; minVersion?: number }
  /**
   * Resolves to the version written, 0 when the session is gone. `value` null removes the key;
   * `user` sets (or clears) the owner.
   */
  | {
      op: 'update';
      id: string;
      key: string;
      value: unknown;
      minVersion?: number;
      user?: string | null;
    }
  | { op: 'destroy'; id: string }
  /** Resolves to the new id, or null when the session is gone. */
  | { op: 'regenerate'; id: string }
  /** What the node serves from its cache for `id` (null when that read was not a hit). */
  | { op: 'cachedCopy'; id: string }
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

export interface CopyResult {
  version: number;
  userId: string | null;
  data: Record<string, unknown>;
}

export type NodeMessage =
  | { type: 'ready'; nodeId: string }
  | { type: 'reply'; seq: number; ok: true; result: unknown }
  | { type: 'reply'; seq: number; ok: false; error: string };
