import { ClusterSessionError } from '../errors/cluster-session.error';
import { TooManySessionsError } from '../errors/too-many-sessions.error';
import { planCommit, type CommitPlan } from './commit-plan';
import { Session } from './session';
import { applyChanges, hasChanges } from './session-changes';
import type { SessionCookieValue } from './session-cookie.signer';
import type { AnySessionData, AppSessionData } from './session-data.interface';
import type { SessionSource } from './session-source.interface';
import { generateSessionId } from './session-id.util';
import { SessionCookie } from './session-cookie';
import type { ResolvedClusterSessionOptions } from '../options/cluster-session-options.interface';
import type { ClientDescription } from './client-description';

/**
 * What the commit asks of the cookie: set it (with a lifetime in ms for a persistent cookie,
 * else a browser-session cookie), clear it, or leave it.
 */
export type CookieAction =
  { set: string; version: number; maxAge?: number } | { clear: true } | null;

export interface RegenerateOptions {
  /** Start empty, as express-session's `regenerate` does (`req.session.regenerate`). Default false. */
  fresh?: boolean;
  /** With `fresh`: the keys to keep. */
  keep?: readonly string[];
}

export type SessionHandleOptions = Pick<
  ResolvedClusterSessionOptions,
  'touchAfter' | 'saveUninitialized' | 'rolling' | 'absoluteTimeout' | 'cookie' | 'ttl'
>;

/**
 * The session as one request sees it (`@Session()`; `req.session` is express-session's API over
 * it). The module loads it before middleware runs when the request carries a valid signed
 * cookie; a request without one starts a new session and never reaches Redis. `data` is the
 * request's own copy. Changes are committed before the response's first byte leaves.
 *
 * @publicApi
 */
export class SessionHandle<T extends object = AppSessionData> {
  private session?: Session<T>;
  private loading?: Promise<void>;
  private loadError?: unknown;
  /**
   * `destroyed`: this request called `destroy()`, so its response clears the cookie.
   * `gone`: a save found the session destroyed or expired meanwhile; nothing more is written,
   * and the cookie is left alone: it may already name a newer session (a concurrent login).
   */
  private ended: 'destroyed' | 'gone' | null = null;
  /** `cookie.maxAge = 0`: the session ends with this response. */
  private expireRequested = false;
  private regenerated = false;
  /**
   * An express-session `regenerate()` of this request deleted the session the cookie names. If
   * the new one is not stored (nothing set in it), the response clears the cookie, as after
   * `destroy()`: else the browser keeps a cookie another node's cache may still serve as the
   * signed-in session until the invalidation arrives.
   */
  private retired = false;
  /**
   * The last Redis operation asked of this session (a save, regenerate, destroy, reload or
   * touch), settled or not: the next one, and the commit, wait for it.
   */
  private inFlight?: Promise<void>;
  private committed = false;
  /** An explicit `save()` stored a new version: the response carries it in the cookie. */
  private written = false;
  /** express-session's `touch()`: refresh the idle timeout with this response. */
  private touchRequested = false;
  private sessionCookie?: SessionCookie;

  constructor(
    private readonly store: SessionSource<T>,
    /** The id and version from a valid signed cookie, or null. */
    private readonly received: SessionCookieValue | null,
    private readonly options: SessionHandleOptions,
    /** What `describeClient` says of this request's client (validated), if anything. */
    private readonly describeClient?: () => ClientDescription | undefined,
  ) {}

  /**
   * Reads the session (once); afterwards `data`, `get`, `set`… are available. A failed read
   * (Redis unavailable) is kept: every later `load()` and every access rethrows it.
   */
  async load(): Promise<this> {
    const { received } = this;
    this.settle(
      () =>
        received
          ? this.store.get(received.id, { minVersion: received.version })
          : Promise.resolve(null),
      false,
    );
    await this.loading;
    return this;
  }

  /**
   * Loads the session from elsewhere (a migrated express-session one, or none), for a request
   * without a cookie of ours. A session adopted this way is stored already: the response sets
   * its cookie.
   */
  async adopt(loading: Promise<Session<T> | null>): Promise<void> {
    this.settle(() => loading, true);
    await this.loading;
  }

  /** Starts the one load of this handle: a session, or a new one when there is none. */
  private settle(read: () => Promise<Session<T> | null>, adopted: boolean): void {
    this.loading ??= read().then(
      (session) => {
        this.session = session ?? new Session<T>(generateSessionId(), {} as T);
        this.written = adopted && session !== null;
      },
      (error: unknown) => {
        this.loadError = error;
        throw error;
      },
    );
  }

  /**
   * Without a cookie there is nothing to read: the request starts a new session at once,
   * without an async step. Returns false when a read is needed (then call `load()`).
   */
  loadSync(): boolean {
    if (this.received) {
      return this.isLoaded;
    }
    this.session ??= new Session<T>(generateSessionId(), {} as T);
    this.loading ??= Promise.resolve();
    return true;
  }

  get isLoaded(): boolean {
    return this.session !== undefined;
  }

  get id(): string {
    return this.loaded().id;
  }

  /** The request's own copy of the data; change it freely. */
  get data(): T {
    return this.loaded().data;
  }

  get<K extends keyof T & string>(key: K): T[K] | undefined {
    return this.loaded().data[key];
  }

  set<K extends keyof T & string>(key: K, value: T[K]): void {
    this.loaded().data[key] = value;
  }

  unset<K extends keyof T & string>(key: K): void {
    delete this.loaded().data[key];
  }

  /** True for a session this request started (nothing stored yet). */
  get isNew(): boolean {
    return this.loaded().isNew;
  }

  /** True when the commit would write: data, owner or cookie lifetime changed. */
  get isModified(): boolean {
    const session = this.loaded();
    const stored = session.storedState;
    return (
      session.userId !== stored.userId || session.maxAge !== stored.maxAge || hasChanges(session)
    );
  }

  /**
   * express-session's `cookie`: `maxAge` (ms left), `expires`, `originalMaxAge`, and the
   * attributes. Setting `maxAge` (or `expires`) gives this session a persistent cookie of that
   * lifetime ("remember me"), and its idle timeout in Redis with it; `null` goes back to the
   * `cookie.maxAge` option.
   */
  get cookie(): SessionCookie {
    this.sessionCookie ??= new SessionCookie(this.options.cookie, {
      lifetime: () => this.lifetime(),
      // a lifetime set by this request counts from now, not from the stored deadline
      expiresAt: () => {
        const session = this.loaded();
        return session.maxAge === session.storedState.maxAge ? session.expiresAt : 0;
      },
      setLifetime: (maxAge) => {
        this.expireRequested = false; // taken back
        this.loaded().maxAge = maxAge;
      },
      expire: () => {
        this.expireRequested = true;
      },
      expiring: () => this.expireRequested,
      longest: () => this.options.absoluteTimeout,
      absoluteDeadline: () => {
        const session = this.loaded();
        return (session.isNew ? Date.now() : session.createdAt) + this.options.absoluteTimeout;
      },
    });
    return this.sessionCookie;
  }

  /**
   * How long after its last save or touch the session is touched again: `touchAfter`, but at
   * most half its idle timeout (a short cookie lifetime, or `rolling` with one: an active user's
   * session must slide before it runs out).
   */
  private touchAfter(): number {
    const idle = this.lifetime() ?? this.options.ttl;
    return Math.min(this.options.touchAfter, Math.floor(idle / 2));
  }

  /** The cookie's lifetime: the session's own, else the option; undefined for a browser-session cookie. */
  private lifetime(): number | undefined {
    return this.loaded().maxAge ?? this.options.cookie.maxAge;
  }

  get userId(): string | null {
    return this.loaded().userId;
  }

  /**
   * Sets (or with `null` clears) the owner, for `listForUser` and `destroyAllForUser`. A new
   * owner gets what `describeClient` says of this request's client recorded with the session.
   */
  setUser(userId: string | null): void {
    const session = this.loaded();
    const changed = userId !== null && userId !== session.storedState.userId;
    session.setUser(userId, changed ? this.describeClient?.() : undefined);
  }

  /**
   * Stores pending changes now instead of after the handler. After a `regenerate()` in flight
   * (another GraphQL field's login, say): under the new id, as the commit would.
   */
  save(): Promise<void> {
    return this.inOrder(() => this.saveNow());
  }

  private async saveNow(): Promise<void> {
    const session = this.loaded();
    if (this.ended || !(this.isModified || session.isNew)) {
      return;
    }
    if (await this.store.save(session).catch((error: unknown) => this.refused(error))) {
      this.written = true;
    } else {
      this.ended = 'gone';
    }
  }

  /**
   * A save failed. When `maxSessionsPerUser` refused the login, nothing of it is kept: not the
   * session it was made in either (Passport stored its user in it before the owner was set),
   * and the response clears the cookie. Rethrows the error.
   */
  private async refused(error: unknown): Promise<never> {
    if (error instanceof TooManySessionsError) {
      const session = this.loaded();
      this.ended = 'destroyed';
      if (!session.isNew) {
        await this.store.destroy(session.id, 'limit');
      }
    }
    throw error;
  }

  /**
   * Reads the session again from Redis, dropping changes not yet saved. Rejects when it no
   * longer exists (as express-session's `reload` does); the request then has no session.
   */
  reload(): Promise<void> {
    return this.inOrder(() => this.reloadNow());
  }

  private async reloadNow(): Promise<void> {
    const session = this.loaded();
    if (session.isNew || this.ended) {
      return;
    }
    const stored = await this.store.get(session.id, { minVersion: session.version });
    if (!stored) {
      this.ended = 'gone';
      throw new ClusterSessionError('the session no longer exists (destroyed or expired)');
    }
    this.session = stored;
  }

  /** Refreshes the idle timeout with this response, as express-session's `touch()` asks. */
  requestTouch(): void {
    this.touchRequested = true;
  }

  /** Extends the idle timeout now (at most once per `touchAfter`). */
  touch(): Promise<void> {
    return this.inOrder(() => this.touchNow());
  }

  private async touchNow(): Promise<void> {
    const session = this.loaded();
    if (!session.isNew) {
      await this.store.touch(session.id);
    }
  }

  /**
   * A new id for this session (call it on login, against session fixation). The keys this
   * request changed are kept, written over what other nodes stored meanwhile only where this
   * request changed them (G6); the old id stops working on every node at once. When the session
   * was destroyed or expired meanwhile, nothing of it survives: the request goes on with a new,
   * empty session, and only what it sets afterwards is stored (G10).
   */
  regenerate(options: RegenerateOptions = {}): Promise<void> {
    // in turn with the other operations: two at once (resolvers of one GraphQL request) would
    // each move the session they started from, and one move would be lost; a save beside it
    // would write the id it left. A handler that does not wait for it
    // (`void req.session.regenerate()`) still gets its outcome in the response: commit() waits
    return this.inOrder(() => this.move(options));
  }

  private async move({ fresh = false, keep = [] }: RegenerateOptions): Promise<void> {
    const session = this.loaded();
    this.regenerated = true;
    this.expireRequested = false; // the new session gets a cookie of its own
    if (fresh) {
      // express-session's: a new, empty session (but the keys asked for); the old one destroyed
      const data = session.data as AnySessionData;
      const kept: AnySessionData = {};
      for (const key of keep) {
        if (Object.prototype.hasOwnProperty.call(data, key)) {
          kept[key] = data[key];
        }
      }
      if (!session.isNew) {
        this.retired = await this.store.destroy(session.id, 'regenerated');
      }
      this.session = new Session<T>(generateSessionId(), kept as T);
      return;
    }
    if (session.isNew) {
      this.session = new Session<T>(generateSessionId(), session.data);
      this.session.setUser(session.userId, session.client);
      return;
    }
    const moved = await this.store.regenerate(session.id);
    this.session = moved
      ? applyChanges(session, moved)
      : new Session<T>(generateSessionId(), {} as T);
  }

  /**
   * Runs this session's Redis operations one after another, in the order they were asked for
   * (fields of one GraphQL query, say, call them at once): a save after a login's
   * `regenerate()` writes the session it moved to, a `regenerate()` after a save moves what was
   * saved (owner included), and a new session's first save is in Redis before a move asked
   * next. When nothing is in flight the operation starts at once (#26).
   */
  private inOrder(operation: () => Promise<void>): Promise<void> {
    const run = this.inFlight ? this.inFlight.then(operation) : operation();
    this.inFlight = run.catch(() => undefined);
    return run;
  }

  /** Waits for the operations asked for so far (each settles, failed or not). */
  private async settled(): Promise<void> {
    let last: Promise<void> | undefined;
    while (this.inFlight !== last) {
      last = this.inFlight;
      await last;
    }
  }

  /** Deletes the session now; the cookie is cleared with the response. */
  destroy(): Promise<void> {
    return this.inOrder(() => this.destroyNow());
  }

  private async destroyNow(): Promise<void> {
    const session = this.loaded();
    // Nothing deleted (moved by a concurrent login, destroyed or expired meanwhile): the cookie
    // the browser holds may already name that login's session, so it is left alone (G10).
    const deleted = session.isNew || (await this.store.destroy(session.id));
    this.ended = deleted ? 'destroyed' : 'gone';
  }

  /**
   * The response went out without a commit (nothing to do when its first byte left): later
   * changes are not written by it, and `needsCommit()` answers at once from now on.
   */
  skipCommit(): void {
    this.committed = true;
  }

  /**
   * Whether `commit()` has anything to do: a write, a touch or a cookie to set or clear.
   * Synchronous, so that the common read-only request finishes without another async step.
   * False once the commit has started, or was skipped: a response commits once. Never throws.
   */
  needsCommit(now = Date.now()): boolean {
    if (this.committed) {
      return false;
    }
    if (this.expireRequested && !this.ended) {
      return true;
    }
    try {
      return this.plan(now).kind !== 'nothing';
    } catch {
      // data that cannot be stored (a BigInt, a cycle): the commit runs and answers the error,
      // rather than let it escape from the response's write
      return true;
    }
  }

  /**
   * Writes what the request changed and says what to do with the cookie (see `planCommit`).
   * Called by the module before the response's first byte; a handle that was never loaded costs
   * nothing.
   */
  async commit(now = Date.now()): Promise<CookieAction> {
    this.committed = true;
    await this.settled();
    // `cookie.maxAge = 0` (or an `expires` past): as express-session, the cookie expires now,
    // and the session with it
    if (this.expireRequested && !this.ended && this.session !== undefined) {
      await this.destroy();
    }
    const plan = this.plan(now);
    switch (plan.kind) {
      case 'nothing':
        return null;
      case 'clear-cookie':
        return { clear: true };
      case 'set-cookie':
        return this.setCookie(now);
      case 'save':
        if (
          !(await this.store.save(this.loaded()).catch((error: unknown) => this.refused(error)))
        ) {
          this.ended = 'gone'; // destroyed or expired meanwhile: nothing written (G5)
          return null;
        }
        return this.setCookie(now); // every write: the cookie names its version
      case 'touch': {
        // Best effort: a failed touch must not fail the response. Before a cookie is re-sent it
        // also proves the session still exists: a concurrent login may have moved it, and
        // re-sending its old cookie would log that login out (G10).
        const alive = await this.store.touch(this.loaded().id).catch(() => false);
        return plan.resend && alive ? this.setCookie(now) : null;
      }
    }
  }

  private plan(now: number): CommitPlan {
    const session = this.session;
    return planCommit({
      ended: this.ended,
      loaded: session !== undefined,
      isNew: session?.isNew ?? false,
      modified: () => session !== undefined && this.isModified,
      received: this.received !== null,
      resign: this.received?.resign === true,
      regenerated: this.regenerated,
      written: this.written,
      retired: this.retired,
      touchRequested: this.touchRequested,
      touchDue: session !== undefined && now - session.touchedAt >= this.touchAfter(),
      saveUninitialized: this.options.saveUninitialized,
      rolling: this.options.rolling,
    });
  }

  /** Sets the cookie; a persistent one lives no longer than the session's absolute deadline. */
  private setCookie(now: number): CookieAction {
    const session = this.loaded();
    const lifetime = this.lifetime();
    const action = { set: session.id, version: session.version };
    if (lifetime === undefined) {
      return action;
    }
    const deadline = session.createdAt + this.options.absoluteTimeout - now;
    return { ...action, maxAge: Math.max(0, Math.min(lifetime, deadline)) };
  }

  private loaded(): Session<T> {
    if (this.loadError !== undefined) {
      throw this.loadError;
    }
    if (!this.session) {
      throw new ClusterSessionError(
        'the session is not loaded: declare it with @Session() in the handler, or `await req.session.load()` first',
      );
    }
    return this.session;
  }
}
