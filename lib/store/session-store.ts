import type { CacheStats } from '../cache/local-cache.interface';
import type { ClientDescription } from '../session/client-description';
import type { Session } from '../session/session';
import type { AppSessionData } from '../session/session-data.interface';

export interface GetSessionOptions {
  /** Serve nothing older than this version from a cache (0: no constraint). */
  minVersion?: number;
}

/**
 * What `destroyAllForUser` keeps.
 *
 * @publicApi
 */
export interface DestroyAllOptions {
  /** A session to keep (the current one, for "sign out other devices"). */
  except?: string;
}

/**
 * One live session of a user, as an account page lists it ("where am I signed in").
 *
 * @publicApi
 */
export interface SessionInfo {
  id: string;
  createdAt: Date;
  /** Its last save or touch: as precise as `touchAfter` lets it be. */
  lastActiveAt: Date;
  /** When it ends unless used again (idle timeout). */
  idleExpiresAt: Date;
  /** When it ends whatever happens (`absoluteTimeout` after its creation). */
  absoluteExpiresAt: Date;
  /** What `describeClient` recorded when the session got its owner. */
  client?: ClientDescription;
  /** Whether it is the session named by `current` (present only when `current` was given). */
  current?: boolean;
}

/**
 * What `sessionsForUser` marks.
 *
 * @publicApi
 */
export interface SessionsForUserOptions {
  /** The current request's session id (`req.sessionID`): its entry gets `current: true`. */
  current?: string;
}

/**
 * Where sessions live. The abstract class is also the injection token: inject `SessionStore`
 * by type, or with `@InjectSessionStore()`. Every method returns a Promise; a Redis outage
 * rejects with `SessionStoreUnavailableError`.
 *
 * @publicApi
 */
export abstract class SessionStore<T extends object = AppSessionData> {
  /** Creates and stores a new session now (unlike the HTTP layer, which saves only when changed). */
  abstract create(data?: T): Promise<Session<T>>;

  /**
   * The session, or `null` when absent, expired, corrupt, or the id is malformed.
   * `minVersion` (the version in the client's cookie) rules out any cached copy older than it:
   * such a read goes to Redis (read-your-writes across nodes, G9).
   */
  abstract get(id: string, options?: GetSessionOptions): Promise<Session<T> | null>;

  /**
   * Stores the top-level keys that changed since the session was read, and its owner.
   * Resolves to false, writing nothing, when the session was destroyed or expired meanwhile:
   * a save never brings a session back.
   */
  abstract save(session: Session<T>): Promise<boolean>;

  /** Deletes the session; true when there was one. */
  abstract destroy(id: string): Promise<boolean>;

  /** Extends the idle timeout (at most once per `touchAfter`); false when the session is gone. */
  abstract touch(id: string): Promise<boolean>;

  /** Moves the session to a new id, data kept, the old id gone; `null` when it is gone. */
  abstract regenerate(id: string): Promise<Session<T> | null>;

  /**
   * Deletes every session of the user ("log out everywhere"), or all but `except` ("sign out
   * other devices": the current session's id); resolves to how many.
   */
  abstract destroyAllForUser(userId: string, options?: DestroyAllOptions): Promise<number>;

  /**
   * Deletes one session of the user, on every node (an account page's "sign out" on a device):
   * `true` when it was that user's and is gone; `false`, nothing deleted, when it is not the
   * user's (another user's id is refused) or no longer exists.
   */
  abstract destroyForUser(userId: string, sessionId: string): Promise<boolean>;

  /** Ids of the user's live sessions. */
  abstract listForUser(userId: string): Promise<string[]>;

  /**
   * The user's live sessions, most recently active first: the reads are sent together (one
   * round trip on one Redis, one per shard on a Cluster), never a `SCAN`.
   */
  abstract sessionsForUser(
    userId: string,
    options?: SessionsForUserOptions,
  ): Promise<SessionInfo[]>;

  /** Statistics of this node's local cache (all zero when there is none). */
  abstract cacheStats(): CacheStats;

  /** Deletes every session under this store's key prefix. */
  abstract clear(): Promise<void>;
}
