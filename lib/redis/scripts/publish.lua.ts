/**
 * ARGV: publish header (1..6), kind, ids. Publishes one message and nothing else; used for
 * `clear`, whose deletion spans many keys and cannot be one script.
 */
export const PUBLISH = `
publish(ARGV[PUB + 1], ARGV[PUB + 2], 0)
return 1
`;
