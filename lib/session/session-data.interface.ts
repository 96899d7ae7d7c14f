/**
 * The app's session data, declared once for the whole app as express-session's is:
 *
 * @example
 * declare module 'nestjs-cluster-session' {
 *   interface SessionData {
 *     username?: string;
 *     cart?: string[];
 *   }
 * }
 * // every SessionHandle (and ExpressSessionView, SessionStore) without a type argument is then
 * // typed by it: get('username') is string | undefined, set('username', 42) does not compile
 *
 * Until an app declares a key, a session holds any top-level keys (`unknown` values).
 *
 * @publicApi
 */
export interface SessionData {} // eslint-disable-line @typescript-eslint/no-empty-object-type -- augmented by the app

/** What any session holds: top-level keys with JSON-serializable values. */
export type AnySessionData = Record<string, unknown>;

/**
 * The default type argument of the session types: the app's `SessionData` once it declares a key,
 * any keys before.
 */
export type AppSessionData = keyof SessionData extends never ? AnySessionData : SessionData;
