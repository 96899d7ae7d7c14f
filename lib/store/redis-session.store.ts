import { Logger } from '@nestjs/common';
import { Cluster, type Redis } from 'ioredis';
import type { CacheStats } from '../cache/local-cache.interface';
import { ClusterSessionError } from '../errors/cluster-session.error';
import { InvalidSessionDataError } from '../errors/invalid-session-data.error';
import { SessionStoreUnavailableError } from '../errors/session-store-unavailable.error';
import type { ResolvedClusterSessionOptions } from '../options/cluster-session-options.interface';
import { NO_PUBLISHER, type Publisher } from '../cluster/publisher.interface';
import { defineSessionScripts, type SessionScripts } from '../redis/session-scripts';
import { Session } from '../session/session';
import type { SessionData } from '../session/session-data.interface';
import { generateSessionId, isSessionId } from '../session/session-id.util';
import {
  CorruptSessionData,
  decodeSnapshot,
  encodeDelta,
  toSession,
  type RawSession,
  type SessionSnapshot,
} from './session-codec';
import { SessionStore, type GetSessionOptions } from './session-store';

export type RedisSessionStoreOptions = Pick<
  ResolvedClusterSessionOptions,
  'keyPrefix' | 'ttl' | 'absoluteTimeout' | 'touchAfter' | 'maxSessionBytes'
>;

const NO_CACHE: CacheStats = Object.freeze({
  hits: 0,
  misses: 0,
  evictions: 0,
  size: 0,
  hitRate: 0,
});
/** Corrupt sessions already logged; bounded so a flood of bad keys cannot grow it forever. */
const MAX_REPORTED = 1_000;

/**
 * Sessions in Redis, without a local cache: one hash per session, every write one Lua script.
 * The connection is owned by the caller (the module opens and closes it).
 */
export class RedisSessionStore<T extends SessionData = SessionData> extends SessionStore<T> {
  protected readonly scripts: SessionScripts;
  private readonly logger = new Logger('ClusterSession');
  private readonly reportedCorrupt = new Set<string>();

  constructor(
    protected readonly redis: Redis | Cluster,
    protected readonly options: RedisSessionStoreOptions,
    private readonly publisher: Publisher = NO_PUBLISHER,
  ) {
    super();
    this.scripts = defineSessionScripts(redis);
  }

  async create(data: T = {} as T): Promise<Session<T>> {
    const session = new Session<T>(generateSessionId(), data);
    await this.save(session);
    return session;
  }

  async get(id: string, _options?: GetSessionOptions): Promise<Session<T> | null> {
    if (!isSessionId(id)) return null;
    const snapshot = await this.readSnapshot(id);
    return snapshot && toSession<T>(id, snapshot);
  }

  /** One Redis read of a well-formed id; `null` when absent, expired or corrupt. */
  protected async readSnapshot(id: string): Promise<SessionSnapshot | null> {
    let reply: unknown;
    try {
      reply = await this.scripts.ncsRead(this.key(id));
    } catch (error) {
      if (isWrongType(error)) return this.corrupt(id, 'not a hash');
      throw new SessionStoreUnavailableError('get', error);
    }
    return reply === null ? null : this.decode(id, reply);
  }

  async save(session: Session<T>): Promise<boolean> {
    const delta = encodeDelta(session, this.options.maxSessionBytes);
    const stored = session.storedState;
    const user = session.userId;
    if (user !== null) assertUserId(user);
    const userOp = user === stored.userId ? '' : user === null ? 'clear' : 'set';
    const { ttl, absoluteTimeout, keyPrefix } = this.options;
    const reply = await this.run('save', () =>
      this.scripts.ncsSave(
        this.key(session.id),
        ...this.publisher.nextHeader(),
        session.isNew ? 'create' : 'update',
        ttl,
        absoluteTimeout,
        keyPrefix,
        session.id,
        userOp,
        user ?? '',
        delta.set.length,
        ...delta.set.flat(),
        ...delta.removed,
      ),
    );
    const [version, life, createdAt] = numbers(reply);
    if (version === -1)
      throw new ClusterSessionError(`session id ${session.id.slice(0, 8)}… is already taken`);
    if (version === 0) return false;
    const now = Date.now();
    session.markStored({
      version,
      createdAt,
      expiresAt: now + life,
      touchedAt: now,
      userId: user,
      fields: delta.fields,
    });
    return true;
  }

  async destroy(id: string): Promise<boolean> {
    if (!isSessionId(id)) return false;
    const deleted = await this.run('destroy', () =>
      this.scripts.ncsDestroy(
        this.key(id),
        ...this.publisher.nextHeader(),
        this.options.keyPrefix,
        id,
      ),
    );
    return deleted === 1;
  }

  async touch(id: string): Promise<boolean> {
    if (!isSessionId(id)) return false;
    const { ttl, touchAfter, keyPrefix } = this.options;
    const reply = await this.run('touch', () =>
      this.scripts.ncsTouch(this.key(id), ttl, touchAfter, keyPrefix, id),
    );
    return numbers(reply)[0] !== 0;
  }

  async regenerate(id: string): Promise<Session<T> | null> {
    const moved = await this.moveSession(id);
    return moved && toSession<T>(moved.id, moved.snapshot);
  }

  /** Regenerates in Redis; the new id and its snapshot, or `null` when the session is gone. */
  protected async moveSession(
    id: string,
  ): Promise<{ id: string; snapshot: SessionSnapshot } | null> {
    if (!isSessionId(id)) return null;
    const newId = generateSessionId();
    const reply = await this.run('regenerate', () =>
      this.scripts.ncsRegenerate(
        this.key(id),
        this.key(newId),
        ...this.publisher.nextHeader(),
        this.options.keyPrefix,
        id,
        newId,
      ),
    );
    if (!Array.isArray(reply) || !Array.isArray(reply[0])) {
      if (numbers(reply)[0] === -1)
        throw new ClusterSessionError(`session id ${newId.slice(0, 8)}… is already taken`);
      return null;
    }
    const snapshot = this.decode(newId, reply);
    return snapshot && { id: newId, snapshot };
  }

  async destroyAllForUser(userId: string): Promise<number> {
    return (await this.destroySessionsOfUser(userId)).length;
  }

  /** Deletes every session of the user; resolves to their ids. */
  protected async destroySessionsOfUser(userId: string): Promise<string[]> {
    assertUserId(userId);
    const ids = await this.run('destroyAllForUser', () =>
      this.scripts.ncsDestroyForUser(
        this.userKey(userId),
        ...this.publisher.nextHeader(),
        this.options.keyPrefix,
        userId,
      ),
    );
    return ids as string[];
  }

  async listForUser(userId: string): Promise<string[]> {
    assertUserId(userId);
    const ids = await this.run('listForUser', () =>
      this.scripts.ncsListForUser(this.userKey(userId), this.options.keyPrefix, userId),
    );
    return ids as string[];
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
          if ((keys as string[]).length > 0) await node.unlink(...(keys as string[]));
        }
      }
      // one message tells every node to drop its whole cache
      await this.scripts.ncsPublish(...this.publisher.nextHeader(), 'c', '');
    });
  }

  protected key(id: string): string {
    return this.options.keyPrefix + id;
  }

  private userKey(userId: string): string {
    return `${this.options.keyPrefix}user:${userId}`;
  }

  /** Runs a Redis call, turning connection failures and timeouts into a typed, retryable error. */
  protected async run<R>(operation: string, call: () => Promise<R>): Promise<R> {
    try {
      return await call();
    } catch (error) {
      throw new SessionStoreUnavailableError(operation, error);
    }
  }

  private decode(id: string, reply: unknown): SessionSnapshot | null {
    const [hash, pttl, now] = Array.isArray(reply) ? reply : [];
    const snapshot = decodeSnapshot({ hash, pttl, now } as RawSession);
    return snapshot instanceof CorruptSessionData ? this.corrupt(id, snapshot.reason) : snapshot;
  }

  /** Corrupt data in Redis is no session: logged once per id, never thrown into a request. */
  private corrupt(id: string, reason: string): null {
    if (!this.reportedCorrupt.has(id)) {
      if (this.reportedCorrupt.size >= MAX_REPORTED) this.reportedCorrupt.clear();
      this.reportedCorrupt.add(id);
      this.logger.warn(
        `ignoring corrupt session ${id.slice(0, 8)}… in Redis (${reason}); treated as no session`,
      );
    }
    return null;
  }
}

function numbers(reply: unknown): number[] {
  return Array.isArray(reply) ? reply.map(Number) : [Number(reply)];
}

function isWrongType(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('WRONGTYPE');
}

function assertUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > 256) {
    throw new InvalidSessionDataError(
      'userId',
      'a user id must be a string of 1 to 256 characters',
    );
  }
}

function escapeGlob(prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, '\\$&');
}
