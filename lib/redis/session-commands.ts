import type { Cluster, Redis } from 'ioredis';
import type { PublishHeader } from '../cluster/publisher.interface';
import { commandTimeoutOf, unsendable, withDeadline } from './command-deadline';
import { CLOCK, PUBLISHING, SLICES } from './scripts/prelude.lua';
import { READ } from './scripts/read.lua';
import { CREATE, UPDATE } from './scripts/save.lua';
import { TOUCH } from './scripts/touch.lua';
import { DESTROY } from './scripts/destroy.lua';
import { REGENERATE } from './scripts/regenerate.lua';
import { INDEX_ADD, INDEX_LIST, INDEX_REMOVE, UNLOCK } from './scripts/user-index.lua';
import { PUBLISH } from './scripts/publish.lua';
import { MIGRATE_LEGACY } from './scripts/migrate-legacy.lua';
import type { Operation } from './operation';

/**
 * The session scripts' contract in one typed place: each method builds its script's KEYS and
 * ARGV (the order each script's comment documents) and decodes its reply. A session as stored
 * (`read`, and `regenerate`'s new session) comes back as Redis sent it: it is Redis content,
 * which the store's codec validates field by field.
 */

/**
 * What a save changes besides its data, in the form every layer uses (the command here, the
 * update message, the receiving cache): the owner (field `user`) and the session's own cookie
 * lifetime (field `m`), each left as it is (absent), removed (`null`) or set.
 */
export interface OwnerAndLifetime {
  user?: string | null;
  /** ms */
  maxAge?: number | null;
}

/**
 * What a save wrote over the version before it: enough for a node holding that version to build
 * the next one without reading Redis (the update message carries it).
 */
export interface SessionChange extends OwnerAndLifetime {
  /** When it was written (field `touched`), epoch ms on the Redis clock as the writer read it. */
  touchedAt: number;
  /** The session's new deadline, epoch ms on the Redis clock: the key expires then. */
  deadline: number;
  /** `[hash field, value as stored]` of the top-level keys written (ciphertext with encryption). */
  set: [string, string][];
  /** Hash fields removed. */
  removed: string[];
}

/** A user's index and the client descriptions beside it (one hash slot). */
export interface UserIndexKeys {
  ids: string;
  clients: string;
}

/** A new session's first save (an owner or cookie lifetime is set or absent). */
export interface CreateCommand extends OwnerAndLifetime {
  key: string;
  header: PublishHeader;
  op: Operation;
  /** The idle timeout, ms: the session's own cookie lifetime if it has one. */
  idleTimeout: number;
  absoluteTimeout: number;
  /** `[hash field, value]` of the data. */
  set: readonly (readonly [string, string])[];
}

export type CreateReply =
  | {
      kind: 'created';
      /** Remaining time to live in Redis, ms. */
      ttl: number;
      /** Epoch ms, Redis clock: also the time it was written. */
      createdAt: number;
      /** `createdAt + absoluteTimeout`. */
      absoluteDeadline: number;
      /** Epoch ms, Redis clock, when the script ran (this run: a retry's creation is older). */
      now: number;
    }
  /** The id is taken. */
  | { kind: 'taken' }
  /** A session of this id was created (by an earlier run of this operation) and destroyed since. */
  | { kind: 'destroyed' };

/** A delta save onto version `baseVersion`, decided entirely by the node (see the script). */
export interface UpdateCommand {
  key: string;
  header: PublishHeader;
  op: Operation;
  baseVersion: number;
  /**
   * The messages for landing on `baseVersion + 1`, `+ 2`… instead (the header's is for the base
   * itself): the write lands on any of these versions whose cookie lifetime is still
   * `baseMaxAge` (the deadline depends on it).
   */
  alternatives?: readonly string[];
  baseMaxAge?: number;
  /** How far behind the Redis clock `change.touchedAt` may be, ms (never ahead). */
  clockTolerance: number;
  /** Epoch ms, Redis clock: no run of this operation applies anything from then on. */
  notAfter: number;
  change: SessionChange;
}

export type UpdateReply =
  /** Written, making `version`; `now`: the Redis time when it ran, epoch ms. */
  | { kind: 'updated'; now: number; version: number }
  /** No session (destroyed or expired meanwhile): nothing was written. */
  | { kind: 'gone' }
  /**
   * The session is at version `version` (with this cookie lifetime): nothing was written, or,
   * when `known` is false, Redis no longer remembers whether this operation wrote the version
   * after the base (too many writes since): only a retry can get that answer.
   */
  | { kind: 'conflict'; version: number; maxAge?: number; known: boolean }
  /** The node's reading of the Redis clock is off; `now` is the Redis time: nothing was written. */
  | { kind: 'clock'; now: number }
  /** The operation's `notAfter` has passed: nothing was written, and no run of it ever will. */
  | { kind: 'expired' };

export interface RegenerateCommand {
  oldKey: string;
  newKey: string;
  header: PublishHeader;
  op: Operation;
  /** The owner the node read before (null: none); the script refuses if it changed since. */
  owner: string | null;
  /** The new origin field `o` (encryption), or '' to leave it. */
  origin: string;
}

export type RegenerateReply =
  /** The session under its new key, as `read` returns it. */
  | { kind: 'moved'; stored: unknown[] }
  | { kind: 'gone' }
  | { kind: 'taken' }
  /** The owner changed since the node read it: index the new owner and try again. */
  | { kind: 'owner-changed' };

/** A refreshed (or throttled) session: its remaining TTL and how long ago it was last refreshed. */
export interface TouchReply {
  ttl: number;
  sinceRefresh: number;
}

/** How a connect-redis session's claim went: ours, or the value found instead (another's marker). */
export type ClaimReply = { kind: 'claimed' } | { kind: 'lost'; current: string | null };

/**
 * The scripts as registered on the client (EVALSHA, falling back to EVAL after a restart),
 * prefixed so that they cannot clash with commands a user defined on their own ioredis instance.
 */
interface Registered {
  clusterSessionRead(key: string): Promise<unknown>;
  clusterSessionCreate(key: string, record: string, ...args: Arg[]): Promise<unknown>;
  clusterSessionUpdate(key: string, ...args: Arg[]): Promise<unknown>;
  clusterSessionTouch(key: string, ...args: Arg[]): Promise<unknown>;
  clusterSessionDestroy(key: string, record: string, ...args: Arg[]): Promise<unknown>;
  clusterSessionRegenerate(oldKey: string, newKey: string, ...args: Arg[]): Promise<unknown>;
  clusterSessionIndexAdd(indexKey: string, clientsKey: string, ...args: Arg[]): Promise<unknown>;
  clusterSessionIndexList(indexKey: string, clientsKey: string): Promise<unknown>;
  clusterSessionIndexRemove(indexKey: string, clientsKey: string, ...ids: Arg[]): Promise<unknown>;
  clusterSessionUnlock(lockKey: string, token: string): Promise<unknown>;
  clusterSessionPublish(...args: Arg[]): Promise<unknown>;
  clusterSessionClaimLegacy(legacyKey: string, ...args: Arg[]): Promise<unknown>;
}

type Arg = string | number | Buffer;

/** The scripts that take a publish header run `guarded` (see the prelude): a failure still publishes. */
const publishing = (lua: string, parts = CLOCK + SLICES) =>
  `${PUBLISHING}${parts}return guarded(function()\n${lua}\nend)`;

const SCRIPTS: Record<keyof Registered, { numberOfKeys: number; lua: string }> = {
  clusterSessionRead: { numberOfKeys: 1, lua: CLOCK + READ },
  clusterSessionCreate: { numberOfKeys: 2, lua: publishing(CREATE) },
  clusterSessionUpdate: { numberOfKeys: 1, lua: publishing(UPDATE, SLICES) },
  clusterSessionTouch: { numberOfKeys: 1, lua: CLOCK + TOUCH },
  clusterSessionDestroy: { numberOfKeys: 2, lua: publishing(DESTROY, '') },
  clusterSessionRegenerate: { numberOfKeys: 2, lua: publishing(REGENERATE) },
  clusterSessionIndexAdd: { numberOfKeys: 2, lua: CLOCK + INDEX_ADD },
  clusterSessionIndexList: { numberOfKeys: 2, lua: CLOCK + INDEX_LIST },
  clusterSessionIndexRemove: { numberOfKeys: 2, lua: INDEX_REMOVE },
  clusterSessionUnlock: { numberOfKeys: 1, lua: UNLOCK },
  clusterSessionPublish: { numberOfKeys: 0, lua: publishing(PUBLISH, '') },
  clusterSessionClaimLegacy: { numberOfKeys: 1, lua: MIGRATE_LEGACY },
};

/** The name under which each session script is registered, and its Lua (tests match commands by it). */
export const SESSION_SCRIPTS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, { lua }]) => [name, lua]),
);

/** The session scripts on one client, typed. Registering them on a client is idempotent. */
export class SessionCommands {
  private readonly scripts: Registered;

  /**
   * `shared`: the connection is also the application's (an instance passed in `redis`), so reads
   * use a script rather than a transaction (see READ).
   */
  constructor(
    private readonly client: Redis | Cluster,
    private readonly shared = false,
  ) {
    const registered = client as unknown as Partial<Registered>;
    for (const [name, { numberOfKeys, lua }] of Object.entries(SCRIPTS)) {
      if (typeof registered[name as keyof Registered] !== 'function') {
        client.defineCommand(name, { numberOfKeys, lua });
      }
    }
    this.scripts = client as unknown as Registered;
  }

  /**
   * The stored session (`[HGETALL as pairs, PTTL, Redis time]`, unvalidated), or null when
   * absent. On a connection of the module's own, one transaction of plain commands (one round
   * trip, atomic), not a script: a read changes nothing and needs no logic in Redis, and on a
   * saturated Redis core a script costs 1.4 to 2.9 times what the same commands cost in
   * `MULTI … EXEC` (the Lua call, and the hash converted to Lua and back;
   * `bench/command-costs.bench.ts`). On a connection shared with the application, the script
   * (see READ). An error reply inside the transaction is thrown.
   */
  async read(key: string): Promise<unknown[] | null> {
    const timeout = commandTimeoutOf(this.client);
    const timed = <R>(reply: Promise<R>) =>
      timeout === undefined ? reply : withDeadline(reply, timeout);
    if (this.shared) {
      const reply = await timed(this.scripts.clusterSessionRead(key));
      if (reply === null) {
        return null;
      }
      if (!Array.isArray(reply)) {
        // "QUEUED": the application holds a MULTI open on this connection
        throw new Error(
          `unexpected reply ${JSON.stringify(reply)} to a session read: is a MULTI open on the Redis instance passed in \`redis\`?`,
        );
      }
      return [pairs(reply[0]), Number(reply[1]), Number(reply[2])];
    }
    // unsent, a Cluster's transaction would wait for its slot map with no timer running
    const refused = unsendable(this.client);
    if (refused) {
      throw refused;
    }
    const replies = await timed(this.client.multi().call('HGETALL', key).pttl(key).time().exec());
    if (!replies) {
      throw new Error('the read transaction was aborted');
    }
    const [hash, pttl, time] = replies.map(([error, value]) => {
      if (error) {
        throw error;
      }
      return value;
    });
    const fields = pairs(hash);
    if (!Array.isArray(fields) || fields.length === 0) {
      return null;
    }
    return [fields, Number(pttl), redisMilliseconds(time)];
  }

  async create(command: CreateCommand): Promise<CreateReply> {
    const reply = await this.scripts.clusterSessionCreate(
      command.key,
      destroyRecordKey(command.key),
      ...command.header,
      ...opArgs(command.op),
      command.idleTimeout,
      command.absoluteTimeout,
      command.set.length + metaPairs(command).length / 2,
      ...command.set.flat(),
      ...metaPairs(command),
    );
    const [status, ttl, createdAt, absoluteDeadline, now] = numbers(reply);
    if (status === 1) {
      return { kind: 'created', ttl, createdAt, absoluteDeadline, now };
    }
    return status === 0 ? { kind: 'destroyed' } : { kind: 'taken' };
  }

  async update(command: UpdateCommand): Promise<UpdateReply> {
    const { change } = command;
    const alternatives = command.alternatives ?? [];
    const set = [
      'v',
      '', // the script fills in the version it makes
      'touched',
      String(change.touchedAt),
      'w',
      '', // the script fills in its operation log
      ...metaPairs(change),
      ...change.set.flat(),
    ];
    const removed = [
      ...(change.user === null ? ['user'] : []),
      ...(change.maxAge === null ? ['m'] : []),
      ...change.removed,
    ];
    const reply = await this.scripts.clusterSessionUpdate(
      command.key,
      ...command.header,
      ...opArgs(command.op),
      String(command.baseVersion),
      String(change.deadline),
      String(Math.ceil(command.clockTolerance)),
      alternatives.length + 1,
      String(Math.floor(command.notAfter)),
      alternatives.length > 0 ? String(command.baseMaxAge ?? '') : '',
      ...alternatives,
      set.length / 2,
      ...set,
      ...removed,
    );
    const [status, ...rest] = numbers(reply);
    if (status === 1) {
      const [now, version] = rest;
      return { kind: 'updated', now, version };
    }
    if (status === -2) {
      const [version, maxAge, known] = rest;
      return {
        kind: 'conflict',
        version,
        ...(maxAge > 0 ? { maxAge } : {}),
        known: known === 1,
      };
    }
    if (status === -3) {
      return { kind: 'clock', now: rest[0] };
    }
    if (status === -4) {
      return { kind: 'expired' };
    }
    return { kind: 'gone' };
  }

  /** Refreshes the idle timeout, at most once per `touchAfter`; null when the session is gone. */
  async touch(key: string, idleTimeout: number, touchAfter: number): Promise<TouchReply | null> {
    const [status, ttl, sinceRefresh] = numbers(
      await this.scripts.clusterSessionTouch(key, idleTimeout, touchAfter),
    );
    return status > 0 && ttl > 0 && sinceRefresh >= 0 ? { ttl, sinceRefresh } : null;
  }

  /**
   * Deletes the session (only while `owner` owns it, when given); true when one was deleted by
   * this operation (by this run, or by an earlier one whose reply was lost).
   */
  async destroy(
    key: string,
    header: PublishHeader,
    op: Operation,
    owner?: string,
  ): Promise<boolean> {
    const args = owner === undefined ? [] : [owner];
    const reply = await this.scripts.clusterSessionDestroy(
      key,
      destroyRecordKey(key),
      ...header,
      ...opArgs(op),
      ...args,
    );
    return reply === 1;
  }

  async regenerate(command: RegenerateCommand): Promise<RegenerateReply> {
    const reply = await this.scripts.clusterSessionRegenerate(
      command.oldKey,
      command.newKey,
      ...command.header,
      ...opArgs(command.op),
      command.owner ?? '',
      command.origin,
    );
    if (Array.isArray(reply) && Array.isArray(reply[0])) {
      return { kind: 'moved', stored: reply };
    }
    const status = numbers(reply)[0];
    return status === -1
      ? { kind: 'taken' }
      : status === -2
        ? { kind: 'owner-changed' }
        : { kind: 'gone' };
  }

  /**
   * Adds a session to its owner's index (entries scored by their absolute deadline), with the
   * client's description when one is given, or the one recorded for `from` (a regenerate).
   */
  async indexAdd(
    index: UserIndexKeys,
    absoluteTimeout: number,
    id: string,
    client: { description?: string; from?: string } = {},
    /** The session's absolute deadline as stored (Redis clock), when known. */
    deadline?: number,
  ): Promise<void> {
    await this.scripts.clusterSessionIndexAdd(
      index.ids,
      index.clients,
      absoluteTimeout,
      id,
      client.description ?? '',
      client.from ?? '',
      deadline === undefined ? '' : String(Math.round(deadline)),
    );
  }

  /** The entries of a user's index and their client descriptions, unvalidated (Redis content). */
  async indexList(index: UserIndexKeys): Promise<{ id: unknown; client: unknown }[]> {
    const reply = await this.scripts.clusterSessionIndexList(index.ids, index.clients);
    const entries: { id: unknown; client: unknown }[] = [];
    if (Array.isArray(reply)) {
      for (let i = 0; i + 1 < reply.length; i += 2) {
        entries.push({ id: reply[i], client: reply[i + 1] });
      }
    }
    return entries;
  }

  /** Takes a lock for `ms` unless another holds it; true when taken. */
  async lock(key: string, token: string, ms: number): Promise<boolean> {
    return (await this.client.set(key, token, 'PX', ms, 'NX')) === 'OK';
  }

  /** Releases a lock, if `token` still holds it. */
  async unlock(key: string, token: string): Promise<void> {
    await this.scripts.clusterSessionUnlock(key, token);
  }

  /** Removes entries (and their client descriptions) from a user's index. */
  async indexRemove(index: UserIndexKeys, ids: readonly string[]): Promise<void> {
    if (ids.length > 0) {
      await this.scripts.clusterSessionIndexRemove(index.ids, index.clients, ...ids);
    }
  }

  /** Tells every node to drop its whole cache (after `clear`). */
  async publishClear(header: PublishHeader, op: Operation): Promise<void> {
    await this.scripts.clusterSessionPublish(...header, ...opArgs(op));
  }

  /**
   * Replaces a connect-redis session's value by `marker`, if it is still `value`. Claimed also
   * when the value found is `marker` itself: an earlier run of this claim, whose reply was lost.
   */
  async claimLegacy(key: string, value: string, marker: string): Promise<ClaimReply> {
    const [claimed, current] = (await this.scripts.clusterSessionClaimLegacy(
      key,
      value,
      marker,
    )) as [unknown, unknown];
    return Number(claimed) === 1 || current === marker
      ? { kind: 'claimed' }
      : { kind: 'lost', current: typeof current === 'string' ? current : null };
  }
}

/** ARGV 4..5 of a writing script: the operation (see the prelude). */
function opArgs(op: Operation): string[] {
  return [op.id, op.retry ? '1' : '0'];
}

/**
 * Where a destroy records that it deleted a session, for a retry to learn it: next to the
 * session's key, in its hash slot.
 */
function destroyRecordKey(sessionKey: string): string {
  return `${sessionKey}:destroyed`;
}

/** The owner and cookie lifetime a write sets, as hash fields (`user`, `m`). */
function metaPairs({ user, maxAge }: OwnerAndLifetime): string[] {
  return [
    ...(typeof user === 'string' ? ['user', user] : []),
    ...(typeof maxAge === 'number' ? ['m', String(maxAge)] : []),
  ];
}

function numbers(reply: unknown): number[] {
  return Array.isArray(reply) ? reply.map(Number) : [Number(reply)];
}

/** TIME's `[seconds, microseconds]` in whole milliseconds, as the scripts' clock reads it; NaN if malformed. */
function redisMilliseconds(time: unknown): number {
  if (!Array.isArray(time) || time.length !== 2) {
    return Number.NaN;
  }
  return Number(time[0]) * 1_000 + Math.floor(Number(time[1]) / 1_000);
}

/**
 * A hash reply as `[field, value, …]`: as RESP2 and RESP3 give it by default, or as an object
 * (ioredis 6 with `replyMapping: 'resp3'`) or a Map; anything else is returned as it is, for the
 * decoder to refuse.
 */
function pairs(hash: unknown): unknown {
  if (hash instanceof Map) {
    return [...hash.entries()].flat();
  }
  if (hash !== null && typeof hash === 'object' && !Array.isArray(hash) && !Buffer.isBuffer(hash)) {
    return Object.entries(hash).flat();
  }
  return hash;
}
