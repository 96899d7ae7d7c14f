/**
 * Where sessions live in Redis. A session is one hash under `<prefix>{<tag>}<id>`, where the
 * hash tag is the first {@link SLOT_TAG_LENGTH} characters of the id: in Redis Cluster the tag
 * alone picks the slot, so a regenerated id that keeps the tag lands in the same slot and the
 * move stays one atomic script. A user's index is a sorted set under `<prefix>user:{<userId>}`,
 * in its own slot.
 */
export const SLOT_TAG_LENGTH = 4;

export function sessionKey(prefix: string, id: string): string {
  return `${prefix}{${id.slice(0, SLOT_TAG_LENGTH)}}${id}`;
}

export function userIndexKey(prefix: string, userId: string): string {
  return `${prefix}user:{${userId}}`;
}

/** What `describeClient` recorded for each session in the user's index (same slot). */
export function userClientsKey(prefix: string, userId: string): string {
  return `${userIndexKey(prefix, userId)}:clients`;
}

/** Held while a login of the user is checked against `maxSessionsPerUser` (same slot). */
export function userLoginLockKey(prefix: string, userId: string): string {
  return `${userIndexKey(prefix, userId)}:login`;
}

/**
 * When the user was last logged out everywhere (epoch ms), kept only with `migrateFrom`: a
 * connect-redis session of the user from before then is not migrated (it is not in the index).
 */
export function userEndedKey(prefix: string, userId: string): string {
  return `${userIndexKey(prefix, userId)}:ended`;
}
