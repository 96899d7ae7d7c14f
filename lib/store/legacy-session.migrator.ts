import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { SessionStoreUnavailableError } from '../errors/session-store-unavailable.error';
import type { ResolvedClusterSessionOptions } from '../options/cluster-session-options.interface';
import { LONGEST_COOKIE } from '../options/resolve-options';
import { LostReplies } from '../redis/lost-replies';
import { SessionCommands } from '../redis/session-commands';
import { Session } from '../session/session';
import type { SessionData } from '../session/session-data.interface';
import { generateSessionId, sessionRef } from '../session/session-id.util';
import type { SessionStore } from './session-store';

const MARKER = 'nestjs-cluster-session:migrated:';
/** How long the old key names the new session, for requests of that browser already in flight. */
const MARKER_TTL_MS = 5 * 60_000;
/** Longest connect-redis value read: a session is 64 KB at most here, JSON around it allowed. */
const MAX_LEGACY_BYTES = 1 << 20;

/**
 * Moves an express-session + connect-redis session into this module's format, once: its data
 * keys become the session's top-level keys, a persistent cookie's `originalMaxAge` becomes the
 * session's own cookie lifetime, and the old key is replaced by a short-lived marker. Two nodes
 * migrating one session at once end with one session (see the claim script).
 */
export class LegacySessionMigrator {
  private readonly commands: SessionCommands;
  private readonly lostReplies: LostReplies;
  private readonly logger = new Logger('ClusterSession');

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly store: SessionStore,
    private readonly options: Required<NonNullable<ResolvedClusterSessionOptions['migrateFrom']>>,
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
    if (value.startsWith(MARKER)) {
      return this.store.get(value.slice(MARKER.length));
    }
    const parsed = this.parse(legacyId, value);
    if (!parsed) {
      return null;
    }
    const session = new Session(generateSessionId(), parsed.data);
    session.maxAge = parsed.maxAge;
    const owner = this.options.userOf(parsed.data);
    if (owner) {
      session.setUser(owner); // so that "log out everywhere" reaches it
    }
    await this.store.save(session);
    // sent again if its reply is lost: a claim that finds its own marker has succeeded
    const claim = await this.call(() =>
      this.lostReplies.send(() =>
        this.commands.claimLegacy(key, value, MARKER + session.id, MARKER_TTL_MS),
      ),
    );
    if (claim.kind === 'claimed') {
      return session;
    }
    // another node migrated it first: keep one session, theirs
    await this.store.destroy(session.id);
    return claim.current?.startsWith(MARKER)
      ? this.store.get(claim.current.slice(MARKER.length))
      : null;
  }

  /** express-session's JSON: data keys, and `cookie` (of which only a persistent lifetime is kept). */
  private parse(legacyId: string, value: string): { data: SessionData; maxAge?: number } | null {
    let json: unknown;
    try {
      json = value.length <= MAX_LEGACY_BYTES ? JSON.parse(value) : undefined;
    } catch {
      json = undefined;
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      this.logger.warn(
        `ignoring connect-redis session ${sessionRef(legacyId)}: not an express-session JSON object`,
      );
      return null;
    }
    const { cookie, ...rest } = json as {
      cookie?: { originalMaxAge?: unknown; expires?: unknown };
    };
    const data: SessionData = {};
    for (const [key, entry] of Object.entries(rest)) {
      if (key !== '__proto__') {
        data[key] = entry;
      }
    }
    // a persistent cookie keeps its lifetime, but no longer than it had left: moving it in
    // must not extend it
    const lifetime = cookie?.originalMaxAge;
    const expires = typeof cookie?.expires === 'string' ? Date.parse(cookie.expires) : NaN;
    const left = Number.isFinite(expires) ? expires - Date.now() : Infinity;
    const maxAge = typeof lifetime === 'number' ? Math.min(lifetime, left, LONGEST_COOKIE) : NaN;
    return maxAge >= 1_000 ? { data, maxAge: Math.round(maxAge) } : { data };
  }

  private async call<R>(command: () => Promise<R>): Promise<R> {
    try {
      return await command();
    } catch (error) {
      throw new SessionStoreUnavailableError('migrate', error);
    }
  }
}
