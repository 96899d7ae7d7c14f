import type { SessionChange } from '../redis/session-commands';
import type { LagStats } from './lag-recorder';

/**
 * What the coordinator has seen since it started.
 *
 * @publicApi
 */
export interface ClusterStats {
  nodeId: string;
  /** Random per process start; messages are numbered per node id and epoch. */
  epoch: string;
  /** The subscription is up on the current connection. */
  subscribed: boolean;
  /** The local cache may be served: subscribed and the last heartbeat answered. */
  trusted: boolean;
  /** Writes that published (or tried to publish) a message. */
  sent: number;
  /** Messages received on the channel, own ones included. */
  received: number;
  /** Malformed, foreign or unauthenticated messages. */
  ignored: number;
  /**
   * Of those, messages of this app (same channel and key prefix) signed with a secret this node
   * does not have: while they come, the cache is not served (see "Secret rotation").
   */
  unverified: number;
  /** Times the local cache was dropped: trust lost or regained, a sequence gap, a clear. */
  flushes: number;
  /** From the Redis timestamp in each message of another node to its arrival here. */
  lagMs: LagStats;
}

/** What the coordinator tells the store. `own` marks messages of this node's own writes. */
export type ClusterEvent =
  /** Version `version` of `id` is the one before it with `change` applied. */
  | {
      type: 'update';
      id: string;
      version: number;
      change: SessionChange;
      sentAt: number;
      own: boolean;
    }
  | { type: 'invalidate'; id: string; version: number; own: boolean }
  | { type: 'destroy'; ids: string[]; own: boolean }
  /** `cleared`: every session was deleted (a `clear`), not only trust lost. */
  | { type: 'flush'; reason: string; cleared?: boolean };
