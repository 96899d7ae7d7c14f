import type { Announcement } from './cluster-message';

/**
 * ARGV[1..3] of every writing script: the channel (empty: publish nothing), the signed message
 * it publishes when it does what it was asked, and the signed no-op it publishes otherwise (the
 * same sequence number, so receivers can tell a lost message from a write that changed nothing).
 */
export type PublishHeader = readonly [channel: string, message: string, noop: string];

/** Numbers and signs the one message each write's script publishes. */
export interface Publisher {
  /**
   * The header of the next write, which announces `announcement` if it succeeds; with
   * `alternatives`, also their messages, under the same number: a write that can do one of
   * several things (land on one of several versions) publishes the one it did.
   */
  announce(
    announcement: Announcement,
    alternatives?: readonly Announcement[],
  ): PublishHeader & { alternatives: string[] };
}

/** For a store without Pub/Sub (`cluster.enabled: false`): scripts publish nothing. */
export const NO_PUBLISHER: Publisher = {
  announce: (_, alternatives = []) =>
    Object.assign(['', '', ''] as const, { alternatives: alternatives.map(() => '') }),
};
