import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { SessionStoreUnavailableError } from '../errors/session-store-unavailable.error';
import type { ResolvedClusterSessionOptions } from '../options/cluster-session-options.interface';
import { LONGEST_COOKIE } from '../options/resolve-options';
import { sign, unsign } from 'cookie-signature';
import { LostReplies } from '../redis/lost-replies';
import { SessionCommands } from '../redis/session-commands';
import { SessionTooLargeError } from '../errors/session-too-large.error';
import { userEndedKey } from './session-keys';
import { Session } from '../session/session';
import type { AnySessionData } from '../session/session-data.interface';
import { generateSessionId, sessionRef } from '../session/session-id.util';
import type { SessionStore } from './session-store';

/** The marker of the release before: the old key's whole value, for five minutes. */
const OLD_MARKER = 'nestjs-cluster-session:migrated:';
/**
 * The field naming the new session in a migrated connect-redis value: `<new id>.<MAC>`, the MAC
 * (HMAC-SHA256 under the first secret, as cookies are signed) binding the new id to the legacy
 * id, so that data an express-session app lets a user write cannot point at another session.
 */
const MOVED_TO = '__clusterSession';
/** Longest connect-redis value read, at least: JSON around a session of `maxSessionBytes`. */
const MIN_LEGACY_READ_BYTES = 1 << 20;
/**
 * Margin for the clocks of express-session nodes (a session's last activity comes from theirs)
 * against Redis's (when the user was logged out everywhere): within it, a session counts as
 * older than the logout.
 */
const CLOCK_SKEW_MARGIN_MS = 60_000;
/** Legacy sessions reported (too large); bounded so a flood cannot grow it. */
const MAX_REPORTED = 1_000;

/**
 * Moves an express-session + connect-redis session into this module's format, once: its data
 * keys become the session's top-level keys, a persistent cookie's `originalMaxAge` becomes the
 * session's own cookie lifetime, and the old value gains a field naming the new session (see
 * the claim script). The old value stays valid express-session JSON, with its data and its TTL:
 * during a rolling deploy, nodes still on express-session keep serving it (what they change is
 * not carried over), and a roll-back finds it. Two nodes migrating one session at once end with
 * one session. A session of a user logged out everywhere since is not migrated.
 */
export class LegacySessionMigrator {
  private readonly commands: SessionCommands;
  private readonly lostReplies: LostReplies;
  private readonly logger = new Logger('ClusterSession');
  private readonly reported = new Set<string>();
  private lifetimeWarned = false;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly store: SessionStore,
    private readonly options: Required<NonNullable<ResolvedClusterSessionOptions['migrateFrom']>>,
    /** This module's options the migration depends on. */
    private readonly own: Pick<
      ResolvedClusterSessionOptions,
      'keyPrefix' | 'absoluteTimeout' | 'maxSessionBytes' | 'secrets'
    >,
  ) {
    this.commands = new SessionCommands(redis);
    this.lostReplies = new LostReplies(redis);
  }

  /**
   * The migrated session for a connect-redis session id, or null when there is none (any more)
   * or it cannot be migrated (logged). Rejects only when Redis is unavailable.
   */
  async migrate(legacyId: string): Promise<Session | null> {
    try {
      return await this.move(legacyId);
    } catch (error) {
      if (error instanceof SessionStoreUnavailableError) {
        throw error;
      }
      if (error instanceof SessionTooLargeError) {
        this.reportTooLarge(legacyId);
        return null;
      }
      this.logger.warn(
        `cannot migrate connect-redis session ${sessionRef(legacyId)}: ${(error as Error).message}`,
      );
      return null;
    }
  }

  private async move(legacyId: string): Promise<Session | null> {
    const key = this.options.keyPrefix + legacyId;
    const value = await this.call(() => this.redis.get(key));
    if (value === null) {
      return null;
    }
    const parsed = this.parse(legacyId, value);
    if (!parsed) {
      return null;
    }
    if ('movedTo' in parsed) {
      return this.store.get(parsed.movedTo);
    }
    const owner = this.ownerOf(legacyId, parsed.data);
    if (owner && (await this.endedSince(owner, parsed.activeAt))) {
      return null; // logged out everywhere since it was last active
    }
    const session = new Session(generateSessionId(), parsed.data);
    session.maxAge = parsed.maxAge;
    if (owner) {
      session.setUser(owner); // so that "log out everywhere" reaches it
    }
    await this.store.save(session);
    // a "log out everywhere" that read the index before the save set its mark before: seen now
    if (owner && (await this.endedSince(owner, parsed.activeAt))) {
      await this.store.destroy(session.id);
      return null;
    }
    // the old value, with the new session named in it (sent again if its reply is lost: a
    // claim that finds its own marker has succeeded)
    const marker = JSON.stringify({
      ...parsed.json,
      [MOVED_TO]: this.pointer(legacyId, session.id),
    });
    const claim = await this.call(() =>
      this.lostReplies.send(() => this.commands.claimLegacy(key, value, marker)),
    );
    if (claim.kind === 'claimed') {
      return session;
    }
    // another node migrated it first: keep one session, theirs
    await this.store.destroy(session.id);
    const theirs = claim.current === null ? null : this.parse(legacyId, claim.current);
    return theirs && 'movedTo' in theirs ? this.store.get(theirs.movedTo) : null;
  }

  /**
   * Whether the user was logged out everywhere after `activeAt` (or at all, when unknown), with
   * a margin for the express-session nodes' clocks.
   */
  private async endedSince(owner: string, activeAt: number | undefined): Promise<boolean> {
    const key = userEndedKey(this.own.keyPrefix, owner);
    const ended = await this.call(() => this.redis.get(key));
    return (
      ended !== null && (activeAt === undefined || Number(ended) + CLOCK_SKEW_MARGIN_MS >= activeAt)
    );
  }

  /** `userOf`'s answer as an owner: a string of 1 to 256 characters (a number becomes one), or none. */
  private ownerOf(legacyId: string, data: AnySessionData): string | null {
    const owner: unknown = this.options.userOf(data);
    const id = typeof owner === 'number' && Number.isFinite(owner) ? String(owner) : owner;
    if (typeof id === 'string' && id.length > 0 && id.length <= 256) {
      return id;
    }
    if (id !== null && id !== undefined) {
      this.reportOnce(
        `userOf:${typeof id}`,
        `migrateFrom.userOf returned ${typeof id === 'string' ? `a string of ${id.length} characters` : `a ${typeof id}`} for connect-redis session ${sessionRef(legacyId)}: the owner must be a string of 1 to 256 characters (or a number); the session is migrated without an owner, so "log out everywhere" does not reach it`,
      );
    }
    return null;
  }

  /** The value of `MOVED_TO`: the new id, and a MAC binding it to the legacy id. */
  private pointer(legacyId: string, newId: string): string {
    return `${newId}.${sign(`${legacyId}>${newId}`, this.own.secrets[0]).split('.').pop()}`;
  }

  /** The new id a `MOVED_TO` value names, if its MAC is genuine for this legacy id. */
  private followed(legacyId: string, value: string): string | null {
    const cut = value.lastIndexOf('.');
    const newId = value.slice(0, cut);
    const mac = value.slice(cut + 1);
    const genuine = this.own.secrets.some(
      (secret) => unsign(`${legacyId}>${newId}.${mac}`, secret) === `${legacyId}>${newId}`,
    );
    return cut > 0 && genuine ? newId : null;
  }

  /** Not a silent sign-out on each request: said once per session, with what to do. */
  private reportTooLarge(legacyId: string): void {
    this.reportOnce(
      legacyId,
      `connect-redis session ${sessionRef(legacyId)} is not migrated: it is larger than maxSessionBytes (${this.own.maxSessionBytes} bytes), so its user is signed out on the nodes of this module. Raise maxSessionBytes, or make the session smaller on express-session first; the old session is left as it is`,
    );
  }

  private reportOnce(what: string, message: string): void {
    if (this.reported.has(what)) {
      return;
    }
    if (this.reported.size >= MAX_REPORTED) {
      this.reported.clear();
    }
    this.reported.add(what);
    this.logger.error(message);
  }

  /**
   * express-session's JSON: data keys, and `cookie` (of which only a persistent lifetime is
   * kept, and when it was last active: its expiry minus its lifetime); or the session it moved
   * to. Null for what cannot be migrated: not an express-session object, or a persistent cookie
   * expired (or with under a second left), which express-session would not serve either.
   */
  private parse(
    legacyId: string,
    value: string,
  ):
    | { json: object; data: AnySessionData; maxAge?: number; activeAt?: number }
    | { movedTo: string }
    | null {
    if (value.startsWith(OLD_MARKER)) {
      return { movedTo: value.slice(OLD_MARKER.length) };
    }
    if (value.length > Math.max(MIN_LEGACY_READ_BYTES, 2 * this.own.maxSessionBytes)) {
      this.reportTooLarge(legacyId);
      return null;
    }
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      json = undefined;
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      this.logger.warn(
        `ignoring connect-redis session ${sessionRef(legacyId)}: not an express-session JSON object`,
      );
      return null;
    }
    const {
      cookie,
      [MOVED_TO]: movedTo,
      ...rest
    } = json as {
      cookie?: { originalMaxAge?: unknown; expires?: unknown };
      [MOVED_TO]?: unknown;
    };
    // a pointer that is not genuine is data like any other (and dropped): never followed
    const target = typeof movedTo === 'string' ? this.followed(legacyId, movedTo) : null;
    if (target !== null) {
      return { movedTo: target };
    }
    const data: AnySessionData = {};
    for (const [key, entry] of Object.entries(rest)) {
      if (key !== '__proto__') {
        data[key] = entry;
      }
    }
    // a persistent cookie keeps its lifetime, but no longer than it had left: moving it in
    // must not extend it, nor revive one that has ended
    const lifetime = cookie?.originalMaxAge;
    const expires = typeof cookie?.expires === 'string' ? Date.parse(cookie.expires) : NaN;
    const left = Number.isFinite(expires) ? expires - Date.now() : Infinity;
    if (left < 1_000) {
      return null;
    }
    const maxAge = typeof lifetime === 'number' ? Math.min(lifetime, left, LONGEST_COOKIE) : NaN;
    if (!(maxAge >= 1_000)) {
      return { json, data };
    }
    this.warnLifetime(lifetime as number);
    return {
      json,
      data,
      maxAge: Math.round(maxAge),
      activeAt: expires - (lifetime as number),
    };
  }

  /**
   * A cookie lifetime above `absoluteTimeout` is cut to it (sessions end at their absolute
   * deadline): said once, with the option to set.
   */
  private warnLifetime(lifetime: number): void {
    if (this.lifetimeWarned || lifetime <= this.own.absoluteTimeout) {
      return;
    }
    this.lifetimeWarned = true;
    this.logger.warn(
      `connect-redis sessions with a cookie lifetime of ${formatDuration(lifetime)} are migrated with their lifetime cut to absoluteTimeout (${formatDuration(this.own.absoluteTimeout)}): their users are signed out sooner than express-session would. Set absoluteTimeout to at least express-session's cookie.maxAge to keep it`,
    );
  }

  private async call<R>(command: () => Promise<R>): Promise<R> {
    try {
      return await command();
    } catch (error) {
      throw new SessionStoreUnavailableError('migrate', error);
    }
  }
}

function formatDuration(ms: number): string {
  const days = ms / 86_400_000;
  return days >= 1 ? `${Math.round(days * 10) / 10} days` : `${Math.round(ms / 60_000)} minutes`;
}
