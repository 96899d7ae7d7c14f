/** What a session holds: top-level keys with JSON-serializable values. */
export type SessionData = Record<string, unknown>;
