import type { SessionEndReason } from '../events/session-events';
import type { Session } from './session';

/**
 * What a request's session handle needs of the store (the `SessionStore` is one): the session
 * layer depends on this, and the store on the session layer, never the other way round.
 */
export interface SessionSource<T extends object> {
  /** The session, or null; with `minVersion`, never a cached copy older than that version. */
  get(id: string, options?: { minVersion?: number }): Promise<Session<T> | null>;
  /** Stores what changed; false when the session was destroyed or expired meanwhile. */
  save(session: Session<T>): Promise<boolean>;
  /** Deletes the session; `reason` is what its `destroyed` event says (default `'logout'`). */
  destroy(id: string, reason?: SessionEndReason): Promise<boolean>;
  regenerate(id: string): Promise<Session<T> | null>;
  touch(id: string): Promise<boolean>;
}
