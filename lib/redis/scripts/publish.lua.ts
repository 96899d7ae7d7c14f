/**
 * ARGV: publish header (1..3). Publishes its message and nothing else; used for `clear`,
 * whose deletion spans many keys and cannot be one script.
 */
export const PUBLISH = `
publish(true)
return 1
`;
