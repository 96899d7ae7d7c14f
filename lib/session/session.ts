import type { ClientDescription } from './client-description';
import type { AppSessionData } from './session-data.interface';

/** Stored state of a session as last read from or written to Redis. */
export interface SessionState {
  /** Increases with every write; 0 for a session never saved. */
  version: number;
  /** Creation time, epoch ms (Redis clock). */
  createdAt: number;
  /** When Redis drops it unless touched or saved again, epoch ms (this node's clock). */
  expiresAt: number;
  /** Last save or touch, epoch ms (this node's clock). */
  touchedAt: number;
  userId: string | null;
  /**
   * The id the session was created under (its id until a regenerate moves it): encrypted values
   * stay bound to it, so a regenerate need not re-encrypt them.
   */
  originId?: string;
  /** The session's own cookie lifetime, ms (set by a request: "remember me"), if any. */
  maxAge?: number;
  /** Serialized top-level keys as stored, to compute the delta of the next save. */
  fields: ReadonlyMap<string, string>;
  /**
   * The Redis clock as this node saw it when the state was read or stored: lets a cached copy
   * take another node's change with a deadline that never outlives the real one (G7).
   */
  redisClock?: RedisClock;
  /**
   * True when a save landed on top of another node's write: `fields` are then what this node
   * wrote over its own reading, right for the next delta but not all that Redis holds, so such a
   * state is never cached as the session.
   */
  merged?: boolean;
}

/**
 * How the Redis clock relates to this node's, measured from one reply (the Redis time in it, and
 * when its command was sent and its reply arrived here), and the session's absolute deadline.
 */
export interface RedisClock {
  /**
   * Redis time minus this node's, from the send time: never below the real offset, so a Redis
   * deadline converted to this node's clock with it comes early, never late.
   */
  offset: number;
  /**
   * The same from the reply's arrival: never above the real offset, so a time placed on the Redis
   * clock with it is never ahead of that clock (a save's touch time and deadline).
   */
  lowOffset: number;
  /** `createdAt + absoluteTimeout`, epoch ms (Redis clock). */
  absoluteDeadline: number;
  /**
   * This node's wall clock minus its monotonic clock when measured: if that changes, the wall
   * clock has stepped since, and the offsets no longer hold.
   */
  wallGap: number;
}

/** This node's wall clock minus its monotonic clock now (see {@link RedisClock.wallGap}). */
export function wallGap(): number {
  return Date.now() - performance.now();
}

const NEW_SESSION: SessionState = {
  version: 0,
  createdAt: 0,
  expiresAt: 0,
  touchedAt: 0,
  userId: null,
  fields: new Map(),
};

/**
 * A session: its id, the caller's own copy of the data, and the state it was stored with.
 * `data` may be changed freely, nested values included; a save compares each top-level key with
 * what was stored and writes only the keys that differ.
 *
 * @publicApi
 */
export class Session<T extends object = AppSessionData> {
  /** Owner of the session, kept in the per-user index; set it with `setUser`. */
  userId: string | null;
  /** Its own cookie lifetime, ms, overriding the `cookie.maxAge` option; `undefined`: none. */
  maxAge: number | undefined;
  /**
   * What to record about the client when the save gives the session its owner (listed by
   * `sessionsForUser`); set with `setUser`.
   */
  client: ClientDescription | undefined;

  constructor(
    readonly id: string,
    public data: T,
    private stored: SessionState = NEW_SESSION,
  ) {
    this.userId = stored.userId;
    this.maxAge = stored.maxAge;
  }

  /** True until the session is first saved. */
  get isNew(): boolean {
    return this.stored.version === 0;
  }

  get version(): number {
    return this.stored.version;
  }

  get createdAt(): number {
    return this.stored.createdAt;
  }

  get expiresAt(): number {
    return this.stored.expiresAt;
  }

  get touchedAt(): number {
    return this.stored.touchedAt;
  }

  /** The state this session was last stored with (used by stores to compute the delta). */
  get storedState(): SessionState {
    return this.stored;
  }

  /** Records a successful save or touch; called by stores. */
  markStored(state: SessionState): void {
    this.stored = state;
    this.userId = state.userId;
    this.maxAge = state.maxAge;
  }

  /**
   * Sets (or with `null` clears) the owner, which feeds `listForUser`/`destroyAllForUser`, and
   * what to record about the client (listed by `sessionsForUser`).
   */
  setUser(userId: string | null, client?: ClientDescription): void {
    this.userId = userId;
    this.client = client;
  }
}
