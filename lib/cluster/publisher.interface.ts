/**
 * ARGV[1..6] of every writing script: channel (empty: publish nothing), origin node id, origin
 * epoch, sequence number, HMAC inner and outer padded keys.
 */
export type PublishHeader = readonly [
  channel: string,
  origin: string,
  epoch: string,
  seq: string,
  innerKey: Buffer | string,
  outerKey: Buffer | string,
];

/** Hands each write the header of the one message its script publishes. */
export interface Publisher {
  nextHeader(): PublishHeader;
}

/** For a store without Pub/Sub (`cluster.enabled: false`): scripts publish nothing. */
export const NO_PUBLISHER: Publisher = {
  nextHeader: () => ['', '', '', '0', '', ''],
};
