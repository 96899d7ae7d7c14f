/**
 * What a session holds: top-level keys with JSON-serializable values.
 *
 * @publicApi
 */
export type SessionData = Record<string, unknown>;
