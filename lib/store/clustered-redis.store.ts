import type { SessionEndReason } from '../events/session-events';
import type { Cluster, Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { CacheStats } from '../cache/local-cache.interface';
import type { LocalCache } from '../cache/local-cache';
import type { ClusterCoordinator } from '../cluster/cluster-coordinator';
import type { ClusterEvent } from '../cluster/cluster-stats.interface';
import type { Session } from '../session/session';
import type { AnySessionData } from '../session/session-data.interface';
import { SessionStoreUnavailableError } from '../errors/session-store-unavailable.error';
import { isSessionId } from '../session/session-id.util';
import { RedisSessionStore, type RedisSessionStoreOptions } from './redis-session.store';
import type { ResolvedClusterSessionOptions } from '../options/cluster-session-options.interface';
import type { GetSessionOptions } from './session-store';
import { snapshotOf, toSession, type SessionSnapshot } from './session-codec';
import { applyUpdate } from './session-update';

/** What the local cache holds per session: the snapshot, and the cache generation it was filled in. */
export interface CachedSession {
  snapshot: SessionSnapshot;
  generation: number;
  /**
   * When the read or write that filled it was sent to Redis (`performance.now()`, which the
   * wall clock's steps do not move, like the cache's own expiry): it is served for
   * `localCacheTtl` after, however late the reply came.
   */
  filledAt: number;
}

/** A Redis read in flight for one id, shared by concurrent misses; cancelled by an invalidation. */
interface Reservation {
  promise: Promise<SessionSnapshot | null>;
  generation: number;
  cancelled: boolean;
}

/** What the store is built from: the command connection, its options, the node's cache and coordinator. */
export interface ClusteredRedisStoreOptions {
  redis: Redis | Cluster;
  options: RedisSessionStoreOptions &
    Pick<ResolvedClusterSessionOptions, 'serveStaleOnError'> & {
      cluster: Pick<ResolvedClusterSessionOptions['cluster'], 'localCacheTtl'>;
    };
  /** Disabled when the node has no local cache (`cluster.localCacheEnabled: false`). */
  cache: LocalCache<CachedSession>;
  /** Disabled when the node has no Pub/Sub (`cluster.enabled: false`). */
  coordinator: ClusterCoordinator;
}

/** Version recorded for a destroyed session: nothing older is ever cached again. */
const DESTROYED = Number.POSITIVE_INFINITY;

/**
 * Sessions in Redis behind this node's local cache, kept safe by the cluster coordinator.
 *
 * A cached copy is served only when all hold, checked synchronously at the moment of serving:
 * the coordinator trusts the cache (subscribed, heartbeat answered), the copy was filled in the
 * current generation (no flush since), no newer version of the session has been seen, and it
 * has not expired. A miss reads Redis once for all concurrent callers; an invalidation arriving
 * before the reply cancels the fill (G3), and a reply older than the newest version seen is not
 * cached. Each caller gets its own `Session`, parsed from the frozen snapshot.
 */
export class ClusteredRedisStore<T extends object = AnySessionData> extends RedisSessionStore<T> {
  private readonly reservations = new Map<string, Reservation>();
  /** Touches in flight per id: concurrent requests on one session share one. */
  private readonly touching = new Map<string, Promise<boolean>>();
  /** Newest version seen per id, from this node's writes and from invalidations. */
  private readonly newestVersionSeen: LRUCache<string, number>;
  private readonly cache: LocalCache<CachedSession>;
  private readonly coordinator: ClusterCoordinator;
  private readonly localCacheTtl: number;
  private readonly serveStaleOnError: boolean;
  /** Reads served from the local cache, and reads that went to Redis. */
  private readonly reads = { hits: 0, misses: 0, staleServed: 0 };
  /** Other nodes' changes applied to a cached copy, one after another (see onUpdate). */
  private applying: Promise<void> = Promise.resolve();
  private updatesApplied = 0;

  constructor({ redis, options, cache, coordinator }: ClusteredRedisStoreOptions) {
    super(redis, options, coordinator); // a disabled coordinator publishes nothing
    this.cache = cache;
    this.coordinator = coordinator;
    this.localCacheTtl = options.cluster.localCacheTtl;
    this.serveStaleOnError = options.serveStaleOnError;
    // Losing this bookkeeping must never turn into serving a stale copy: an id it forgets is
    // evicted from the cache too, so the next read goes to Redis.
    this.newestVersionSeen = new LRUCache({
      max: 100_000,
      dispose: (_version, id, reason) => {
        if (reason === 'evict') {
          this.cache.delete(id).catch(() => undefined);
        }
      },
    });
    coordinator.onEvent((event) => this.onClusterEvent(event));
  }

  override async get(
    id: string,
    { minVersion = 0 }: GetSessionOptions = {},
  ): Promise<Session<T> | null> {
    if (!isSessionId(id)) {
      return null;
    }
    // G9: a copy older than the client's own last write is not served; Redis is read instead.
    // If Redis itself is behind the cookie (a failover lost that write), its answer stands.
    const cached = await this.cached(id, minVersion);
    if (cached) {
      this.reads.hits++;
      return toSession<T>(id, cached);
    }
    this.reads.misses++;
    try {
      const snapshot = await this.load(id, minVersion);
      return snapshot && toSession<T>(id, snapshot);
    } catch (error) {
      const stale =
        error instanceof SessionStoreUnavailableError && (await this.stale(id, minVersion));
      if (!stale) {
        throw error;
      }
      this.reads.staleServed++;
      return toSession<T>(id, stale);
    }
  }

  /**
   * With `serveStaleOnError`, while Redis is unreachable: the cached copy, whatever its
   * generation, if still within `localCacheTtl` of its fill (the cache's own TTL), unexpired, not
   * older than the cookie's version, and not superseded or destroyed as far as this node knows.
   */
  private async stale(id: string, minVersion: number): Promise<SessionSnapshot | undefined> {
    if (!this.serveStaleOnError || !this.cache.enabled) {
      return undefined;
    }
    const snapshot = (await this.cache.get(id))?.snapshot;
    return snapshot && this.servable(id, snapshot, minVersion)
      ? (snapshot as SessionSnapshot)
      : undefined;
  }

  override async save(session: Session<T>): Promise<boolean> {
    const loaded = session.version;
    // captured before the write: a flush during it (messages possibly lost) forbids caching after
    const generation = this.generation();
    const sentAt = performance.now(); // the copy's lifetime counts from here, not from the reply (G8)
    let saved: boolean;
    try {
      saved = await super.save(session);
    } catch (error) {
      // Redis may or may not have run the write: no copy older than its version may be served.
      // (Errors raised before anything is sent, such as a session too large, change nothing.)
      if (error instanceof SessionStoreUnavailableError) {
        this.supersede(session.id, loaded + 1);
      }
      throw error;
    }
    if (!saved) {
      this.supersede(session.id, DESTROYED);
      return false;
    }
    this.supersede(session.id, session.version);
    // Cache the new state only if it is exactly what Redis holds: no other write in between (now
    // or in an earlier save of this session), and no newer version announced meanwhile (its
    // message can arrive before this reply).
    if (
      session.version === loaded + 1 &&
      !session.storedState.merged &&
      this.isCurrent(session.id, session.version)
    ) {
      await this.remember(session.id, snapshotOf(session), generation, sentAt);
    }
    return true;
  }

  override async destroy(id: string, reason?: SessionEndReason): Promise<boolean> {
    try {
      return await super.destroy(id, reason);
    } finally {
      if (isSessionId(id)) {
        this.supersede(id, DESTROYED);
      }
    }
  }

  override async regenerate(id: string): Promise<Session<T> | null> {
    const generation = this.generation();
    const sentAt = performance.now();
    try {
      const moved = await this.moveSession(id);
      if (!moved) {
        return null;
      }
      this.supersede(moved.id, moved.snapshot.version);
      await this.remember(moved.id, moved.snapshot, generation, sentAt);
      return toSession<T>(moved.id, moved.snapshot);
    } finally {
      if (isSessionId(id)) {
        this.supersede(id, DESTROYED);
      }
    }
  }

  /**
   * Extends the idle timeout, and records on the cached copy when Redis last refreshed it, so
   * that the next hits do not touch again before `touchAfter` has passed (one touch per session
   * per `touchAfter` on a node, whatever the hit rate).
   */
  override touch(id: string): Promise<boolean> {
    const pending = this.touching.get(id);
    if (pending) {
      return pending;
    }
    const generation = this.generation();
    // the reply's lifetime is that of the version Redis held then: a copy of a later version
    // (an update may apply before this reply arrives) keeps its own
    const version = this.newestVersionSeen.get(id) ?? 0;
    const touch = this.refresh(id)
      .then(async (refreshed) => {
        if (refreshed) {
          await this.updateCached(id, refreshed, generation, version);
        }
        return refreshed !== null;
      })
      .finally(() => this.touching.delete(id));
    this.touching.set(id, touch);
    return touch;
  }

  /** Replaces the cached copy of `id` by one with new times, if it is still the version touched and no newer one was seen. */
  private async updateCached(
    id: string,
    times: Pick<SessionSnapshot, 'touchedAt' | 'expiresAt'>,
    generation: number,
    version: number,
  ): Promise<void> {
    const entry = await this.cache.get(id);
    if (
      !entry ||
      entry.generation !== generation ||
      entry.snapshot.version !== version ||
      this.newestVersionSeen.get(id) !== version
    ) {
      return;
    }
    const snapshot = { ...(entry.snapshot as SessionSnapshot), ...times };
    await this.remember(id, snapshot, generation, entry.filledAt); // no longer than the first fill's TTL (G8)
  }

  /** Sessions this node ended: no copy of them is served any more (and their events). */
  protected override ended(
    ids: readonly string[],
    reason: SessionEndReason,
    userId?: string,
  ): void {
    for (const id of ids) {
      this.supersede(id, DESTROYED);
    }
    super.ended(ids, reason, userId);
  }

  override async clear(): Promise<void> {
    try {
      await super.clear();
    } finally {
      this.coordinator.flush('clear', true); // bumps the generation, comes back as a 'flush' event
    }
  }

  /**
   * Hits and misses count reads of this store: served from the cache, or read from Redis (a copy
   * found but not servable, say older than the cookie, is a miss). Size and evictions are the
   * cache's.
   */
  override cacheStats(): CacheStats {
    if (!this.cache.enabled) {
      return super.cacheStats();
    }
    const { hits, misses } = this.reads;
    const lookups = hits + misses;
    return { ...this.cache.stats(), hits, misses, hitRate: lookups === 0 ? 0 : hits / lookups };
  }

  /** Sets the read counters and the cache's eviction count back to zero. */
  resetCacheStats(): void {
    this.reads.hits = 0;
    this.reads.misses = 0;
    this.reads.staleServed = 0;
    this.updatesApplied = 0;
    this.cache.resetStats();
  }

  /** Other nodes' saves applied to a cached copy here (`cluster.propagation: 'update'`). */
  get updatesAppliedCount(): number {
    return this.updatesApplied;
  }

  /** Reads answered with a stale cached copy because Redis was unreachable (`serveStaleOnError`). */
  get staleReadsServed(): number {
    return this.reads.staleServed;
  }

  private generation(): number {
    return this.coordinator.generation;
  }

  private trusted(): boolean {
    return this.cache.enabled && this.coordinator.isTrusted();
  }

  private isCurrent(id: string, version: number): boolean {
    return version >= (this.newestVersionSeen.get(id) ?? 0);
  }

  /** The cached snapshot, if it may be served now. */
  private async cached(id: string, minVersion: number): Promise<SessionSnapshot | undefined> {
    if (!this.trusted()) {
      return undefined;
    }
    const generation = this.generation();
    const entry = await this.cache.get(id);
    // re-checked after the await: trust, generation and versions may have changed meanwhile
    if (
      !entry ||
      entry.generation !== generation ||
      generation !== this.generation() ||
      !this.trusted()
    ) {
      return undefined;
    }
    const { snapshot } = entry;
    return this.servable(id, snapshot, minVersion) ? (snapshot as SessionSnapshot) : undefined;
  }

  /** Not older than the cookie's version nor than any version seen, and not expired. */
  private servable(
    id: string,
    snapshot: Pick<SessionSnapshot, 'version' | 'expiresAt'>,
    minVersion: number,
  ): boolean {
    return (
      snapshot.version >= minVersion &&
      this.isCurrent(id, snapshot.version) &&
      snapshot.expiresAt > Date.now()
    );
  }

  /**
   * Reads Redis once for every concurrent miss of `id`, and caches the reply if nothing newer was
   * seen. A caller whose cookie names a newer version than the shared read returned reads again:
   * that read may have been sent before the write the cookie comes from (G9).
   */
  private async load(id: string, minVersion: number): Promise<SessionSnapshot | null> {
    const pending = this.reservations.get(id);
    if (!pending) {
      return this.reserve(id);
    }
    const snapshot = await pending.promise;
    return snapshot && snapshot.version < minVersion ? this.reserve(id) : snapshot;
  }

  private reserve(id: string): Promise<SessionSnapshot | null> {
    const reservation: Reservation = {
      promise: undefined!,
      generation: this.generation(),
      cancelled: false,
    };
    const release = () => {
      if (this.reservations.get(id) === reservation) {
        this.reservations.delete(id);
      }
    };
    // a copy is served for localCacheTtl from when the read was sent, not from its reply: a
    // reply late by up to the command timeout must not stretch G8's bound by as much
    const sentAt = performance.now();
    reservation.promise = this.readSnapshot(id).then(
      async (snapshot) => {
        release();
        const current = snapshot && !reservation.cancelled && this.isCurrent(id, snapshot.version);
        // stored before the read resolves: whoever got the reply sees the cache settled
        if (current && this.trusted()) {
          await this.remember(id, snapshot, reservation.generation, sentAt);
        }
        return snapshot;
      },
      (error: unknown) => {
        release();
        throw error;
      },
    );
    this.reservations.set(id, reservation);
    return reservation.promise;
  }

  /** Caches a snapshot filled in `generation`, unless a flush came since. Resolves once stored. */
  private async remember(
    id: string,
    snapshot: SessionSnapshot,
    generation: number,
    filledAt: number,
  ): Promise<void> {
    if (!this.cache.enabled || generation !== this.generation()) {
      return;
    }
    const now = Date.now();
    const ttl = Math.min(
      this.localCacheTtl - (performance.now() - filledAt),
      snapshot.expiresAt - now,
    );
    if (ttl <= 0) {
      return;
    }
    // a version read or written is a fact: no older copy stored later (a slower path) is served
    this.newestVersionSeen.set(id, Math.max(snapshot.version, this.newestVersionSeen.get(id) ?? 0));
    await this.cache.set(id, { snapshot, generation, filledAt }, ttl).catch(() => undefined);
  }

  /**
   * Makes every copy of `id` older than `version` unservable at once (synchronously), cancels a
   * fill in flight, and evicts the cached copy.
   */
  private supersede(id: string, version: number): void {
    this.outdate(id, version);
    this.cache.delete(id).catch(() => undefined);
  }

  /** Makes every copy of `id` older than `version` unservable at once, and cancels a fill in flight. */
  private outdate(id: string, version: number): void {
    this.newestVersionSeen.set(id, Math.max(version, this.newestVersionSeen.get(id) ?? 0));
    const reservation = this.reservations.get(id);
    if (reservation) {
      reservation.cancelled = true;
      this.reservations.delete(id);
    }
  }

  private onClusterEvent(event: ClusterEvent): void {
    switch (event.type) {
      case 'update':
      case 'invalidate':
        // A message of this node's own write matters only if it is news: it can arrive before
        // the write's reply (different connections), or the write may have failed here.
        if (event.own) {
          if (event.version > (this.newestVersionSeen.get(event.id) ?? 0)) {
            this.supersede(event.id, event.version);
          }
        } else if (event.type === 'update') {
          this.onUpdate(event);
        } else {
          this.supersede(event.id, event.version);
        }
        break;
      case 'destroy':
        for (const id of event.ids) {
          if (!event.own || (this.newestVersionSeen.get(id) ?? 0) !== DESTROYED) {
            this.supersede(id, DESTROYED);
          }
        }
        break;
      case 'flush':
        for (const reservation of this.reservations.values()) {
          reservation.cancelled = true;
        }
        this.reservations.clear();
        // the generation bump already makes every copy unservable; with serveStaleOnError they
        // are kept as a fallback for while Redis is unreachable, unless every session was deleted
        if (!this.serveStaleOnError || event.cleared) {
          this.cache.clear().catch(() => undefined);
        }
        break;
    }
  }

  /**
   * Another node's save, with what it wrote. Every copy older than its version stops being served
   * at once, as for an invalidation; then, in arrival order, a cached copy of exactly the version
   * before becomes this version, and any other older copy is dropped. The version check is what
   * makes this safe whatever the order or repetition of messages: a session's versions are
   * written one at a time in Redis (a save applies only onto the version it was computed from), so
   * version N with the change to N + 1 applied is version N + 1.
   */
  private onUpdate(event: Extract<ClusterEvent, { type: 'update' }>): void {
    const { id, version } = event;
    this.outdate(id, version);
    const generation = this.generation();
    this.applying = this.applying
      .then(async () => {
        const entry = await this.cache.get(id);
        if (!entry || entry.snapshot.version >= version) {
          return; // nothing held, or a newer copy already (a fill after the write)
        }
        const previous = entry.snapshot as SessionSnapshot;
        const updated =
          entry.generation === generation &&
          previous.version === version - 1 &&
          applyUpdate(previous, event, (field, value) =>
            this.storedJson(id, previous, field, value),
          );
        if (!updated) {
          await this.cache.delete(id);
          return;
        }
        this.updatesApplied++;
        // served no longer than the copy it came from was (G8)
        await this.remember(id, updated, generation, entry.filledAt);
      })
      .catch(() => undefined);
  }

  /** A data value as a save stored it, as JSON: decrypted with encryption on; null when it does not decrypt. */
  private storedJson(
    id: string,
    snapshot: SessionSnapshot,
    field: string,
    value: string,
  ): string | null {
    return this.cipher ? this.cipher.decrypt(snapshot.originId ?? id, field, value) : value;
  }
}
