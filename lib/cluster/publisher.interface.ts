import type { Announcement } from './cluster-message';

/**
 * ARGV[1..3] of every writing script: the channel (empty: publish nothing), the signed message
 * it publishes when it does what it was asked, and the signed no-op it publishes otherwise (the
 * same sequence number, so receivers can tell a lost message from a write that changed nothing).
 */
export type PublishHeader = readonly [channel: string, message: string, noop: string];

/** Numbers and signs the one message each write's script publishes. */
export interface Publisher {
  /** The header of the next write, which announces `announcement` if it succeeds. */
  announce(announcement: Announcement): PublishHeader;
}

/** For a store without Pub/Sub (`cluster.enabled: false`): scripts publish nothing. */
export const NO_PUBLISHER: Publisher = {
  announce: () => ['', '', ''],
};
