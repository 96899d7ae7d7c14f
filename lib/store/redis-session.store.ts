import { Logger } from '@nestjs/common';
import { Cluster, type Redis } from 'ioredis';
import type { CacheStats } from '../cache/local-cache.interface';
import { ClusterSessionError } from '../errors/cluster-session.error';
import { InvalidSessionDataError } from '../errors/invalid-session-data.error';
import { SessionStoreUnavailableError } from '../errors/session-store-unavailable.error';
import type {
  MaxSessionsPerUser,
  ResolvedClusterSessionOptions,
} from '../options/cluster-session-options.interface';
import type { SessionEndReason, SessionEvent, SessionEvents } from '../events/session-events';
import { TooManySessionsError } from '../errors/too-many-sessions.error';
import {
  decodeClientDescription,
  encodeClientDescription,
  type ClientDescription,
} from '../session/client-description';
import { NO_PUBLISHER, type Publisher, type PublishHeader } from '../cluster/publisher.interface';
import type { Announcement } from '../cluster/cluster-message';
import {
  SessionCommands,
  type OwnerAndLifetime,
  type SessionChange,
  type UserIndexKeys,
} from '../redis/session-commands';
import { CLOCK_TOLERANCE_MS } from '../redis/scripts/save.lua';
import { OPS_KEPT } from '../redis/scripts/prelude.lua';
import { unsendable } from '../redis/command-deadline';
import { LostReplies, ReplyLostError } from '../redis/lost-replies';
import type { Operation } from '../redis/operation';
import { Session, wallGap, type RedisClock } from '../session/session';
import type { AnySessionData } from '../session/session-data.interface';
import {
  generateSessionId,
  generateSessionIdLike,
  isSessionId,
  sessionRef,
} from '../session/session-id.util';
import { FieldCipher } from '../crypto/field-cipher';
import { DATA_FIELD_PREFIX } from '../session/session-changes';
import {
  CorruptSessionData,
  decodeSnapshot,
  encodeDelta,
  toSession,
  type SessionDelta,
  type RawSession,
  type SessionSnapshot,
} from './session-codec';
import {
  SessionStore,
  type DestroyAllOptions,
  type GetSessionOptions,
  type SessionInfo,
  type SessionsForUserOptions,
} from './session-store';
import {
  SLOT_TAG_LENGTH,
  sessionKey,
  userClientsKey,
  userEndedKey,
  userIndexKey,
  userLoginLockKey,
} from './session-keys';
import { LONGEST_COOKIE } from '../options/resolve-options';

export type RedisSessionStoreOptions = Pick<
  ResolvedClusterSessionOptions,
  'keyPrefix' | 'ttl' | 'absoluteTimeout' | 'touchAfter' | 'maxSessionBytes'
> &
  Partial<Pick<ResolvedClusterSessionOptions, 'maxSessionsPerUser'>> & {
    /** Where the store reports what happens to sessions. */
    eventSink?: SessionEvents;
    /**
     * The connection is also the application's (an instance passed in `redis`): reads are then
     * a script, not a `MULTI … EXEC` that would clear the application's `WATCH` or commit its
     * open `MULTI`.
     */
    sharedConnection?: boolean;
    encryptionKeys?: Buffer[] | null;
    /** `cookie.maxAge`: when set, the idle timeout of every session without one of its own. */
    cookie?: { maxAge?: number };
  };

/** How long a login holds the user's login lock at most, and how long others wait for it, ms. */
const LOGIN_LOCK_MS = 2_000;

const NO_CACHE: CacheStats = Object.freeze({
  hits: 0,
  misses: 0,
  evictions: 0,
  size: 0,
  hitRate: 0,
});
/**
 * Attempts of one save that finds another version each time: each failed attempt means another
 * write succeeded, so only a session written this often by others at once gets this far.
 */
const MAX_SAVE_ATTEMPTS = 50;
/**
 * Versions a save may land on after a second conflict: the one it was told, and the next ones
 * (each with its own signed message). So a writer whose round trip is slower than other
 * writers' pace still lands, rather than meet a newer version at each attempt. (Not before: a
 * first conflict is common and its retry usually lands, and every message costs Redis to read.)
 */
const CONFLICT_WINDOW = 8;
/** Readings of the Redis clock one save may have refused (each is measured again from the refusal). */
const MAX_CLOCK_READINGS = 4;
/** Corrupt sessions already logged; bounded so a flood of bad keys cannot grow it forever. */
const MAX_REPORTED = 1_000;

/**
 * Sessions in Redis, without a local cache: one hash per session, every write one Lua script.
 * The connection is owned by the caller (the module opens and closes it).
 */
export class RedisSessionStore<T extends object = AnySessionData> extends SessionStore<T> {
  protected readonly commands: SessionCommands;
  protected readonly cipher: FieldCipher | null;
  private readonly lostReplies: LostReplies;
  private redisErrorCount = 0;
  private readonly logger = new Logger('ClusterSession');
  private readonly reportedCorrupt = new Set<string>();

  constructor(
    protected readonly redis: Redis | Cluster,
    protected readonly options: RedisSessionStoreOptions,
    private readonly publisher: Publisher = NO_PUBLISHER,
  ) {
    super();
    this.commands = new SessionCommands(redis, options.sharedConnection);
    this.lostReplies = new LostReplies(redis);
    this.cipher = options.encryptionKeys ? new FieldCipher(options.encryptionKeys) : null;
  }

  /** A session's idle timeout in Redis unless it has a cookie lifetime of its own. */
  private get idleTimeout(): number {
    return this.options.cookie?.maxAge ?? this.options.ttl;
  }

  async create(data: T = {} as T): Promise<Session<T>> {
    const session = new Session<T>(generateSessionId(), data);
    await this.save(session);
    return session;
  }

  async get(id: string, _options?: GetSessionOptions): Promise<Session<T> | null> {
    if (!isSessionId(id)) {
      return null;
    }
    const snapshot = await this.readSnapshot(id);
    return snapshot && toSession<T>(id, snapshot);
  }

  /** One Redis read of a well-formed id; `null` when absent, expired or corrupt. */
  protected async readSnapshot(id: string): Promise<SessionSnapshot | null> {
    const sentAt = Date.now();
    let reply: unknown[] | null;
    try {
      reply = await this.commands.read(this.key(id));
    } catch (error) {
      if (isWrongType(error)) {
        return this.corrupt(id, 'not a hash');
      }
      this.unavailable('get', error);
    }
    return reply === null ? null : this.decode(id, reply, sentAt, Date.now());
  }

  async save(session: Session<T>): Promise<boolean> {
    const delta = encodeDelta(session, this.options.maxSessionBytes);
    const stored = session.storedState;
    const user = session.userId;
    if (user !== null) {
      assertUserId(user);
    }
    // the owner and cookie lifetime as this save changes them: absent when unchanged
    const meta: OwnerAndLifetime = {
      ...(user === stored.userId ? {} : { user }),
      ...(session.maxAge === stored.maxAge ? {} : { maxAge: session.maxAge ?? null }),
    };
    const set = this.encrypted(stored.originId ?? session.id, delta.set);
    const owner = typeof meta.user === 'string' ? meta.user : null;
    const limit = owner === null ? null : this.options.maxSessionsPerUser;
    if (owner === null || !limit) {
      return this.persist(session, meta, set, delta, owner, null);
    }
    // logins of one user checked one at a time, where the lock can be had (see enforceLimit)
    const lock = await this.lockLogins(owner);
    try {
      return await this.persist(session, meta, set, delta, owner, { ...limit, locked: lock.held });
    } finally {
      await lock.release();
    }
  }

  /** The write of a save, and what a new owner brings: the index entries, events, the limit. */
  private async persist(
    session: Session<T>,
    meta: OwnerAndLifetime,
    set: [string, string][],
    delta: SessionDelta,
    owner: string | null,
    limit: (MaxSessionsPerUser & { locked: boolean }) | null,
  ): Promise<boolean> {
    const description = owner === null ? undefined : clientOf(session);
    // the index entry before and after the write: see destroySessionsOfUser
    if (owner !== null) {
      if (limit?.onExceed === 'refuse') {
        await this.refuseOverLimit(owner, session.id, limit.limit);
      }
      await this.indexAdd(owner, session.id, { description });
    }
    const created = session.isNew;
    const saved = created
      ? await this.insert(session, meta, set, delta)
      : await this.update(session, meta, set, delta);
    if (!saved) {
      return false;
    }
    if (created) {
      this.emit({ type: 'created', id: session.id });
    }
    if (owner === null) {
      return true;
    }
    // the description again: a pruning in between (the session had no owner yet) removed it
    await this.indexAdd(
      owner,
      session.id,
      { description },
      session.storedState.redisClock?.absoluteDeadline,
    );
    this.emit({ type: 'owner-set', id: session.id, userId: owner });
    return limit ? this.enforceLimit(owner, session.id, limit) : true;
  }

  /**
   * Takes the user's login lock, waiting for another login of the user to finish; resolves to
   * its release. The lock is only for liveness: racing logins admitted one by one rather than
   * refusing or ending each other. Safety does not depend on it (a holder that outlives the
   * lock, or Redis refusing it, leaves `enforceLimit` to keep the limit), so after waiting
   * {@link LOGIN_LOCK_MS} the login goes on without it.
   */
  private async lockLogins(
    userId: string,
  ): Promise<{ held: boolean; release: () => Promise<void> }> {
    const key = userLoginLockKey(this.options.keyPrefix, userId);
    const token = generateSessionId();
    const deadline = Date.now() + LOGIN_LOCK_MS;
    for (;;) {
      if (
        await this.run('maxSessionsPerUser', () => this.commands.lock(key, token, LOGIN_LOCK_MS))
      ) {
        return {
          held: true,
          release: () => this.commands.unlock(key, token).catch(() => undefined),
        };
      }
      if (Date.now() >= deadline) {
        return { held: false, release: () => Promise.resolve() };
      }
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10));
    }
  }

  /**
   * `maxSessionsPerUser` with `'refuse'`, before a session gets its owner: refuses (nothing
   * written) when the user has the limit of live sessions already.
   */
  private async refuseOverLimit(userId: string, id: string, limit: number): Promise<void> {
    const live = await this.sessionsForUser(userId);
    if (live.filter((info) => info.id !== id).length >= limit) {
      throw new TooManySessionsError(limit);
    }
  }

  /**
   * `maxSessionsPerUser`, after a session got its owner: when the user has more live sessions
   * than the limit, ends the least recently active ones (`'end-oldest'`), or this one
   * (`'refuse'`: racing logins took the places meanwhile). Every login does this after its own
   * write, and the last one sees every session that got its owner before: so racing logins on
   * any nodes never leave more than the limit. Resolves to false when this session was ended.
   */
  private async enforceLimit(
    userId: string,
    id: string,
    { limit, onExceed, locked }: MaxSessionsPerUser & { locked: boolean },
  ): Promise<boolean> {
    // most recently active first, in an order every node agrees on
    const live = await this.sessionsForUser(userId);
    if (live.length <= limit) {
      return true;
    }
    if (onExceed === 'refuse') {
      await this.run('maxSessionsPerUser', () => this.endOwned(userId, [id], 'limit'));
      throw new TooManySessionsError(limit);
    }
    // Holding the lock, no other login of the user is racing: this one stays whatever the
    // others did meanwhile (another device's save between its write and this listing would
    // rank it below). Without the lock, the order alone decides, as on every racing node.
    // Either way the last login to list keeps at most `limit`: the limit holds.
    const ranked = locked
      ? [id, ...live.map((info) => info.id).filter((x) => x !== id)]
      : live.map((info) => info.id);
    const excess = ranked.slice(limit);
    const gone = await this.run('maxSessionsPerUser', () => this.endOwned(userId, excess, 'limit'));
    return !gone.includes(id);
  }

  private async insert(
    session: Session<T>,
    meta: OwnerAndLifetime,
    set: [string, string][],
    delta: SessionDelta,
  ): Promise<boolean> {
    const maxAge = meta.maxAge ?? undefined; // a new session has nothing to remove
    const header = this.header({ kind: 'noop' });
    let sentAt = Date.now();
    const reply = await this.write('save', (op) => {
      sentAt = Date.now();
      return this.commands.create({
        key: this.key(session.id),
        header,
        op,
        idleTimeout: maxAge ?? this.idleTimeout,
        absoluteTimeout: this.options.absoluteTimeout,
        set,
        user: meta.user ?? undefined,
        maxAge,
      });
    });
    if (reply.kind === 'taken') {
      throw new ClusterSessionError(`session id ${sessionRef(session.id)} is already taken`);
    }
    if (reply.kind === 'destroyed') {
      return false; // created by a run whose reply was lost, and ended since (G5)
    }
    // anchored at the send time: the copy never outlives the key in Redis (G7)
    session.markStored({
      version: 1,
      createdAt: reply.createdAt,
      expiresAt: sentAt + reply.ttl,
      touchedAt: sentAt,
      userId: session.userId,
      originId: session.storedState.originId,
      maxAge,
      fields: delta.fields,
      redisClock: clockOf(reply.now, sentAt, reply.absoluteDeadline),
    });
    return true;
  }

  /**
   * A delta save onto the version the session was read at; when another write came first, the
   * same change onto that one. The node places the touch time and the new deadline itself, from
   * its reading of the Redis clock (an offset never above the real one, so neither is ahead of
   * Redis: no session outlives its idle timeout, G7; the script refuses a reading further behind
   * than the tolerance given), and announces exactly what it writes.
   */
  private async update(
    session: Session<T>,
    meta: OwnerAndLifetime,
    set: [string, string][],
    delta: SessionDelta,
  ): Promise<boolean> {
    const stored = session.storedState;
    const firstReading = stored.redisClock ?? (await this.readSnapshot(session.id))?.redisClock;
    if (!firstReading) {
      return false; // gone
    }
    let clock: RedisClock = firstReading;
    let base = { version: stored.version, maxAge: stored.maxAge };
    // another node's write came in between: the change lands on top of it
    let merged = stored.merged === true;
    let clockRefusals = 0;
    for (let attempt = 1; ; attempt++) {
      // the session's own cookie lifetime after this save: the one it sets, else the stored one
      const maxAge = meta.maxAge === undefined ? base.maxAge : (meta.maxAge ?? undefined);
      let sentAt = Date.now();
      const now: number = sentAt + clock.lowOffset;
      const deadline = Math.min(now + (maxAge ?? this.idleTimeout), clock.absoluteDeadline);
      const change: SessionChange = {
        touchedAt: now,
        deadline,
        ...meta,
        set,
        removed: delta.removed,
      };
      const baseVersion = base.version;
      const baseMaxAge = base.maxAge;
      // the versions it may land on: the one after base, or after a conflict the next few too
      const [first, ...alternatives] = Array.from(
        { length: attempt <= 2 ? 1 : CONFLICT_WINDOW },
        (_, i): Announcement => ({
          kind: 'update',
          id: session.id,
          version: baseVersion + 1 + i,
          change,
        }),
      );
      const header = this.header(first, alternatives);
      // a reading is behind by about one round trip: a slow link must not refuse every save
      const clockTolerance = Math.max(CLOCK_TOLERANCE_MS, 2 * (clock.offset - clock.lowOffset));
      // no run applies after this (Redis clock): by the time this node gives up on the
      // operation (a retry window after its reply was lost, so later than this, as `now` is
      // never ahead of Redis), a run still in flight can no longer land over later writes
      const notAfter = now + this.lostReplies.retryWindow;
      const reply = await this.write('save', async (op) => {
        sentAt = Date.now();
        const reply = await this.commands.update({
          key: this.key(session.id),
          header,
          op,
          baseVersion,
          alternatives: header.alternatives,
          baseMaxAge,
          clockTolerance,
          notAfter,
          change,
        });
        // a retry that neither wrote nor can tell whether the lost run did: an earlier run
        // may still apply it (a refused reading), or Redis forgot (too many writes since)
        if (reply.kind === 'expired') {
          throw new ReplyLostError('no reply in time, and none of its runs may land any more');
        }
        if (op.retry && (reply.kind === 'clock' || (reply.kind === 'conflict' && !reply.known))) {
          throw new ReplyLostError(
            reply.kind === 'clock'
              ? `a retry's reading of the Redis clock was refused`
              : `more than ${OPS_KEPT} writes reached session ${sessionRef(session.id)} before the retry`,
          );
        }
        return reply;
      });
      if (reply.kind === 'gone') {
        return false;
      }
      if (reply.kind === 'conflict') {
        if (attempt >= MAX_SAVE_ATTEMPTS || !(reply.version > base.version)) {
          throw new ClusterSessionError(
            `session ${sessionRef(session.id)} could not be saved: it changed during each of ${attempt} attempts`,
          );
        }
        base = { version: reply.version, maxAge: reply.maxAge };
        merged = true;
        // writers of one session that keep meeting back off at random, so none is starved
        if (attempt > 1) {
          await new Promise((resolve) =>
            setTimeout(resolve, Math.random() * 2 ** Math.min(attempt, 7)),
          );
        }
        continue;
      }
      if (reply.kind === 'clock') {
        if (++clockRefusals >= MAX_CLOCK_READINGS) {
          throw new ClusterSessionError(
            `session ${sessionRef(session.id)} could not be saved: this node's readings of the Redis clock were refused ${clockRefusals} times (its clock is stepping, or Redis's replies are very slow)`,
          );
        }
        clock = clockOf(reply.now, sentAt, clock.absoluteDeadline); // measured again
        continue;
      }
      // measured again from this reply, whatever the reading used was
      const measured = clockOf(reply.now, sentAt, clock.absoluteDeadline);
      const { version } = reply;
      merged ||= version !== baseVersion + 1;
      session.markStored({
        version,
        createdAt: stored.createdAt,
        expiresAt: deadline - measured.offset,
        touchedAt: sentAt,
        userId: session.userId,
        originId: stored.originId,
        maxAge,
        fields: delta.fields,
        redisClock: measured,
        ...(merged ? { merged } : {}),
      });
      return deadline > now; // past its absolute deadline: the write deleted it (G7)
    }
  }

  async destroy(id: string, reason: SessionEndReason = 'logout'): Promise<boolean> {
    if (!isSessionId(id)) {
      return false;
    }
    const header = this.header({ kind: 'destroy', ids: [id] });
    const deleted = await this.write('destroy', (op) =>
      this.commands.destroy(this.key(id), header, op),
    );
    if (deleted) {
      this.ended([id], reason);
    }
    return deleted;
  }

  async touch(id: string): Promise<boolean> {
    return (await this.refresh(id)) !== null;
  }

  /**
   * The touch script; `null` when the session is gone, else when it was last saved or touched
   * and when it now expires (this node's clock, anchored at the send time).
   */
  protected async refresh(id: string): Promise<{ touchedAt: number; expiresAt: number } | null> {
    if (!isSessionId(id)) {
      return null;
    }
    let sentAt = Date.now();
    const reply = await this.write('touch', () => {
      sentAt = Date.now();
      return this.commands.touch(this.key(id), this.idleTimeout, this.options.touchAfter);
    });
    return reply && { touchedAt: sentAt - reply.sinceRefresh, expiresAt: sentAt + reply.ttl };
  }

  async regenerate(id: string): Promise<Session<T> | null> {
    const moved = await this.moveSession(id);
    return moved && toSession<T>(moved.id, moved.snapshot);
  }

  /** Regenerates in Redis; the new id and its snapshot, or `null` when the session is gone. */
  protected async moveSession(
    id: string,
  ): Promise<{ id: string; snapshot: SessionSnapshot } | null> {
    if (!isSessionId(id)) {
      return null;
    }
    // same hash tag, same slot: the move is one script on Redis Cluster too
    const newId = generateSessionIdLike(id, SLOT_TAG_LENGTH);
    for (let attempt = 1; ; attempt++) {
      // the new id is indexed under the owner before it exists and again after, as save does
      // (see destroySessionsOfUser); the script refuses if the owner changed in between
      const [owner, origin] = await this.run('regenerate', () =>
        this.redis.hmget(this.key(id), 'user', 'o'),
      );
      if (owner !== null && isUserId(owner)) {
        await this.indexAdd(owner, newId, { from: id });
      }
      // with encryption, the id its values are bound to moves with it, under a new MAC
      let binding = '';
      if (this.cipher) {
        const boundTo = origin === null ? id : this.cipher.originOf(origin, id);
        if (boundTo === null) {
          return this.corrupt(id, 'its origin field is not genuine');
        }
        binding = this.cipher.bindOrigin(boundTo, newId);
      }
      const header = this.header({ kind: 'destroy', ids: [id] });
      let sentAt = Date.now();
      const reply = await this.write('regenerate', (op) => {
        sentAt = Date.now();
        return this.commands.regenerate({
          oldKey: this.key(id),
          newKey: this.key(newId),
          header,
          op,
          owner,
          origin: binding,
        });
      });
      if (reply.kind === 'moved') {
        this.ended([id], 'regenerated', owner ?? undefined);
        this.emit({ type: 'created', id: newId });
        const snapshot = this.decode(newId, reply.stored, sentAt, Date.now());
        if (snapshot?.userId != null) {
          await this.indexAdd(
            snapshot.userId,
            newId,
            { from: id },
            snapshot.redisClock?.absoluteDeadline,
          );
        }
        return snapshot && { id: newId, snapshot };
      }
      if (reply.kind === 'taken') {
        throw new ClusterSessionError(`session id ${sessionRef(newId)} is already taken`);
      }
      if (reply.kind === 'gone') {
        return null;
      }
      if (attempt >= 5) {
        throw new ClusterSessionError(
          `session ${sessionRef(id)} changed owner during each of ${attempt} regenerate attempts`,
        );
      }
    }
  }

  async destroyAllForUser(userId: string, options: DestroyAllOptions = {}): Promise<number> {
    return (await this.destroySessionsOfUser(userId, options.except)).length;
  }

  async destroyForUser(userId: string, sessionId: string): Promise<boolean> {
    assertUserId(userId);
    if (!isSessionId(sessionId)) {
      return false;
    }
    // deleted only while the user owns it (as for "log out everywhere"): an id of someone
    // else's session deletes nothing
    const gone = await this.run('destroyForUser', () =>
      this.endOwned(userId, [sessionId], 'revoked'),
    );
    return gone.length > 0;
  }

  /**
   * Deletes every session of the user; resolves to their ids.
   *
   * The index lives in another slot than the sessions, so it cannot change in one step with
   * them. What keeps "log out everywhere" whole (G10): a write that makes a user the owner of a
   * session adds the index entry before and again after it; an entry is removed only for a
   * session deleted here (it cannot come back, G5), or by pruning, which re-reads the owners
   * after removing and restores any entry whose session has meanwhile become the user's. So a
   * session owned by the user is always listed, whatever the interleaving: the last step to
   * touch its entry is an add.
   */
  protected async destroySessionsOfUser(userId: string, except?: string): Promise<string[]> {
    assertUserId(userId);
    // when, for the connect-redis sessions not yet migrated (they are in no index); set before
    // reading the index: a migration either sees it or is in the index (see the migrator).
    // Kept whether or not this node migrates: in a fleet where only some nodes do, "log out
    // everywhere" on any node must reach the sessions the others would migrate
    // (on the Redis clock: every node reads the same one)
    const [seconds, micros] = await this.run('destroyAllForUser', () => this.redis.time());
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    await this.write('destroyAllForUser', () =>
      this.redis.set(
        userEndedKey(this.options.keyPrefix, userId),
        String(now),
        'PX',
        LONGEST_COOKIE,
      ),
    );
    return this.run('destroyAllForUser', async () => {
      const indexed = (await this.indexList(userId)).map(({ id }) => id);
      // entries skipped (a login not yet saved, another owner) are left to pruning
      return this.endOwned(
        userId,
        indexed.filter((id) => id !== except),
        'logout-all',
      );
    });
  }

  /**
   * Deletes those of `ids` the user owns: one destroy script per session, each in its own slot,
   * that deletes only while the user is the owner; then their index entries. Resolves to the
   * ids deleted.
   */
  private async endOwned(
    userId: string,
    ids: string[],
    reason: SessionEndReason,
  ): Promise<string[]> {
    const deleted = await Promise.all(
      ids.map((id) => {
        const header = this.header({ kind: 'destroy', ids: [id] });
        return this.lostReplies.send((op) =>
          this.commands.destroy(this.key(id), header, op, userId),
        );
      }),
    );
    const gone = ids.filter((_, i) => deleted[i]);
    this.ended(gone, reason, userId);
    // a leftover entry would only be pruned later: not worth failing the call for
    await this.commands.indexRemove(this.userKeys(userId), gone).catch(() => undefined);
    return gone;
  }

  /** Sessions this node ended: reported as events (the clustered store also evicts them). */
  protected ended(ids: readonly string[], reason: SessionEndReason, userId?: string): void {
    for (const id of ids) {
      this.emit({ type: 'destroyed', id, reason, ...(userId === undefined ? {} : { userId }) });
    }
  }

  protected emit(event: Omit<SessionEvent, 'nodeId'>): void {
    this.options.eventSink?.emit(event);
  }

  async sessionsForUser(
    userId: string,
    options: SessionsForUserOptions = {},
  ): Promise<SessionInfo[]> {
    assertUserId(userId);
    return this.run('sessionsForUser', async () => {
      const indexed = await this.indexList(userId);
      let snapshots = await Promise.all(indexed.map(({ id }) => this.readSnapshot(id)));
      // entries whose session is gone or is no longer the user's are pruned (a logout leaves
      // its entry: without this, every login under the limit would read them all again)
      const stale = indexed.filter((_, i) => snapshots[i]?.userId !== userId).map(({ id }) => id);
      const back = new Set(await this.pruneIndex(userId, stale));
      if (back.size > 0) {
        snapshots = await Promise.all(
          indexed.map(({ id }, i) =>
            back.has(id) ? this.readSnapshot(id) : Promise.resolve(snapshots[i]),
          ),
        );
      }
      const live: SessionInfo[] = [];
      for (const [i, snapshot] of snapshots.entries()) {
        if (snapshot?.userId === userId) {
          const { id, client } = indexed[i];
          live.push({
            id,
            createdAt: new Date(snapshot.createdAt),
            // on the Redis clock, as stored: every node reads the same (and ranks alike)
            lastActiveAt: new Date(
              Math.round(snapshot.touchedAt + (snapshot.redisClock?.offset ?? 0)),
            ),
            idleExpiresAt: new Date(snapshot.expiresAt),
            // as stored: the node that created it may have another absoluteTimeout
            absoluteExpiresAt: new Date(
              snapshot.redisClock?.absoluteDeadline ??
                snapshot.createdAt + this.options.absoluteTimeout,
            ),
            ...(client ? { client } : {}),
            ...(options.current === undefined ? {} : { current: id === options.current }),
          });
        }
      }
      // most recent first; ties in a fixed order, so every node ranks alike (see the limit)
      return live.sort(
        (x, y) => y.lastActiveAt.getTime() - x.lastActiveAt.getTime() || (x.id < y.id ? -1 : 1),
      );
    });
  }

  async listForUser(userId: string): Promise<string[]> {
    assertUserId(userId);
    return this.run('listForUser', async () => {
      const indexed = (await this.indexList(userId)).map(({ id }) => id);
      const owners = await this.owners(indexed);
      const live = indexed.filter((_, i) => owners[i] === userId);
      const stale = indexed.filter((_, i) => owners[i] !== userId);
      return [...live, ...(await this.pruneIndex(userId, stale))];
    });
  }

  /**
   * Removes the entries of sessions found gone or owned by another; resolves to those that
   * became the user's between that reading and the removal, whose entries are put back (see
   * destroySessionsOfUser: the last step to touch a live session's entry is an add).
   */
  private async pruneIndex(userId: string, stale: string[]): Promise<string[]> {
    if (stale.length === 0) {
      return [];
    }
    await this.commands.indexRemove(this.userKeys(userId), stale);
    const now = await this.owners(stale);
    const back = stale.filter((_, i) => now[i] === userId);
    for (const id of back) {
      await this.indexAdd(userId, id);
    }
    return back;
  }

  private owners(ids: string[]): Promise<(string | null)[]> {
    return Promise.all(ids.map((id) => this.redis.hget(this.key(id), 'user')));
  }

  private async indexAdd(
    userId: string,
    id: string,
    client?: { description?: string; from?: string },
    deadline?: number,
  ): Promise<void> {
    await this.write('index', () =>
      this.commands.indexAdd(
        this.userKeys(userId),
        this.options.absoluteTimeout,
        id,
        client,
        deadline,
      ),
    );
  }

  /**
   * The entries of a user's index, with what `describeClient` recorded (well-formed ones: the
   * index is Redis content, not trusted).
   */
  private async indexList(
    userId: string,
  ): Promise<{ id: string; client: ClientDescription | undefined }[]> {
    const entries = await this.commands.indexList(this.userKeys(userId));
    return entries.flatMap(({ id, client }) =>
      isSessionId(id) ? [{ id, client: decodeClientDescription(client) }] : [],
    );
  }

  cacheStats(): CacheStats {
    return { ...NO_CACHE };
  }

  async clear(): Promise<void> {
    const nodes = this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis];
    await this.run('clear', async () => {
      for (const node of nodes) {
        for await (const keys of node.scanStream({
          match: `${escapeGlob(this.options.keyPrefix)}*`,
          count: 500,
        })) {
          // one key per UNLINK: on Redis Cluster one node's keys span many slots
          if ((keys as string[]).length > 0) {
            const pipeline = node.pipeline();
            for (const key of keys as string[]) {
              pipeline.unlink(key);
            }
            await pipeline.exec();
          }
        }
      }
      // one message tells every node to drop its whole cache
      const header = this.header({ kind: 'clear' });
      await this.lostReplies.send((op) => this.commands.publishClear(header, op));
    });
  }

  protected key(id: string): string {
    return sessionKey(this.options.keyPrefix, id);
  }

  private userKeys(userId: string): UserIndexKeys {
    return {
      ids: userIndexKey(this.options.keyPrefix, userId),
      clients: userClientsKey(this.options.keyPrefix, userId),
    };
  }

  /**
   * The publish header of the next writing script. Each takes a sequence number, and a number
   * that is never published looks like a lost message to every other node, which flushes its
   * cache: so none is taken for a command the client would reject unsent (not connected, no
   * offline queue). A script that runs and fails still publishes its number (see the prelude).
   */
  protected header(
    announcement: Announcement,
    alternatives: readonly Announcement[] = [],
  ): PublishHeader & { alternatives: string[] } {
    const refused = unsendable(this.redis);
    if (refused) {
      this.unavailable('write', refused);
    }
    return this.publisher.announce(announcement, alternatives);
  }

  /**
   * Runs a write (see {@link LostReplies}: at most once, and sent again when its reply is lost),
   * turning failures into a typed, retryable error.
   */
  protected write<R>(operation: string, send: (op: Operation) => Promise<R>): Promise<R> {
    return this.run(operation, () => this.lostReplies.send(send));
  }

  /** Runs a Redis call, turning connection failures and timeouts into a typed, retryable error. */
  protected async run<R>(operation: string, call: () => Promise<R>): Promise<R> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof SessionStoreUnavailableError) {
        throw error; // counted already
      }
      this.unavailable(operation, error);
    }
  }

  /** Counts a failed Redis call and throws it as a typed, retryable error. */
  private unavailable(operation: string, error: unknown): never {
    this.redisErrorCount++;
    throw new SessionStoreUnavailableError(operation, error);
  }

  /** Redis calls that failed (connection, timeout, server error) since this store was created. */
  get redisErrors(): number {
    return this.redisErrorCount;
  }

  private encrypted(id: string, pairs: [string, string][]): [string, string][] {
    const { cipher } = this;
    return cipher ? pairs.map(([field, json]) => [field, cipher.encrypt(id, field, json)]) : pairs;
  }

  /** A read or regenerate reply as a snapshot; the command was sent at `sentAt`, answered at `receivedAt`. */
  private decode(
    id: string,
    reply: unknown,
    sentAt: number,
    receivedAt: number,
  ): SessionSnapshot | null {
    const [stored, pttl, now] = Array.isArray(reply) ? reply : [];
    const plain = this.cipher ? this.decrypted(id, stored) : { hash: stored, originId: id };
    if (plain === null) {
      return this.corrupt(id, 'a value does not decrypt (tampered, moved, or an unknown key)');
    }
    const snapshot = decodeSnapshot(
      { hash: plain.hash, pttl, now } as RawSession,
      sentAt,
      receivedAt,
    );
    if (snapshot instanceof CorruptSessionData) {
      return this.corrupt(id, snapshot.reason);
    }
    return snapshot && plain.originId !== id ? { ...snapshot, originId: plain.originId } : snapshot;
  }

  /**
   * The hash with every data value decrypted, and the id they are bound to: the session's own,
   * or after a regenerate its origin (field `o`, genuine only with its MAC for this id); null
   * when a value does not decrypt or `o` is not genuine.
   */
  private decrypted(id: string, hash: unknown): { hash: unknown[]; originId: string } | null {
    if (!Array.isArray(hash)) {
      return null;
    }
    const out = [...(hash as unknown[])];
    const at = out.findIndex((field, i) => i % 2 === 0 && field === 'o');
    const originId = at < 0 ? id : this.cipher!.originOf(out[at + 1], id);
    if (originId === null) {
      return null;
    }
    for (let i = 0; i + 1 < out.length; i += 2) {
      const field = out[i];
      if (typeof field !== 'string' || !field.startsWith(DATA_FIELD_PREFIX)) {
        continue;
      }
      const plain = this.cipher!.decrypt(originId, field, out[i + 1]);
      if (plain === null) {
        return null;
      }
      out[i + 1] = plain;
    }
    return { hash: out, originId };
  }

  /** Corrupt data in Redis is no session: logged once per id, never thrown into a request. */
  protected corrupt(id: string, reason: string): null {
    if (!this.reportedCorrupt.has(id)) {
      if (this.reportedCorrupt.size >= MAX_REPORTED) {
        this.reportedCorrupt.clear();
      }
      this.reportedCorrupt.add(id);
      this.logger.warn(
        `ignoring corrupt session ${sessionRef(id)} in Redis (${reason}); treated as no session`,
      );
    }
    return null;
  }
}

/** What to record about the session's client with its new owner, as stored; refused when unstorable. */
function clientOf(session: Session<object>): string | undefined {
  if (session.client === undefined) {
    return undefined;
  }
  const checked = encodeClientDescription(session.client);
  if ('problem' in checked) {
    throw new ClusterSessionError(
      `the client description given to setUser: ${checked.problem}; nothing was written`,
    );
  }
  return checked.encoded;
}

/** The Redis clock as a reply just arrived with `redisNow` shows it, for a command sent at `sentAt`. */
function clockOf(redisNow: number, sentAt: number, absoluteDeadline: number): RedisClock {
  return {
    offset: redisNow - sentAt,
    lowOffset: redisNow - Date.now(),
    absoluteDeadline,
    wallGap: wallGap(),
  };
}

function isWrongType(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('WRONGTYPE');
}

function isUserId(userId: unknown): userId is string {
  return typeof userId === 'string' && userId.length > 0 && userId.length <= 256;
}

function assertUserId(userId: unknown): asserts userId is string {
  if (!isUserId(userId)) {
    throw new InvalidSessionDataError(
      'userId',
      'a user id must be a string of 1 to 256 characters',
    );
  }
}

function escapeGlob(prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, '\\$&');
}
