import type { DescribeClient } from '../session/client-description';
import type { MetricsOptions } from '../metrics/cluster-session-metrics';
import type { RedisConnectionOption } from '../redis/redis-connection.interface';

/**
 * The session cookie.
 *
 * @publicApi
 */
export interface SessionCookieOptions {
  /** Cookie name. Default `'sid'`. */
  name?: string;
  /** Default `'/'`. */
  path?: string;
  /** Default: none (host-only cookie). */
  domain?: string;
  /** Default `true`. */
  httpOnly?: boolean;
  /** `'auto'` follows the request's protocol (and `X-Forwarded-Proto` behind a trusted proxy). Default `'auto'`. */
  secure?: boolean | 'auto';
  /** Default `'lax'`. */
  sameSite?: 'lax' | 'strict' | 'none';
  /**
   * Lifetime of the cookie, ms: it is sent with `Max-Age`/`Expires` and survives the browser's
   * restart, and the session's idle timeout in Redis becomes this instead of `ttl` (capped by
   * `absoluteTimeout`). A request can set its own with `req.session.cookie.maxAge` ("remember
   * me"). Default: none, a browser-session cookie.
   */
  maxAge?: number;
}

/**
 * Switching from express-session + connect-redis without logging anyone out: a request that
 * carries a valid express-session cookie (signed with one of `secret`) and no cookie of this
 * module has its connect-redis session moved, once, into this module's format.
 */
export interface MigrateFromOptions {
  /** express-session's cookie name. Default `'connect.sid'`. */
  cookieName?: string;
  /** connect-redis's key prefix. Default `'sess:'`. */
  keyPrefix?: string;
  /**
   * The owner of a migrated session, for `listForUser`/`destroyAllForUser`: from its data.
   * Default: Passport's `passport.user` when it is a string or a number, else none.
   */
  userOf?: (data: Record<string, unknown>) => string | null | undefined;
}

/**
 * Cross-node coordination and the local cache.
 *
 * @publicApi
 */
export interface ClusterOptions {
  /** Pub/Sub subscription and broadcast. When false the local cache is off unless `localCacheEnabled` is set (safe for one node only). Default `true`. */
  enabled?: boolean;
  /** Identifies this node in messages. Default: a random UUID. */
  nodeId?: string;
  /** Pub/Sub channel. Default `'session:cluster:invalidate'`. */
  channel?: string;
  /** Local cache on or off. Default `true` (with `enabled`), else `false`. */
  localCacheEnabled?: boolean;
  /** How long a cached copy may be served without Redis, ms. Default `30_000`. */
  localCacheTtl?: number;
  /** Entries before LRU eviction. Default `10_000`. */
  localCacheMaxSize?: number;
  /** Startup waits this long for the subscription, ms. Default `5_000`. */
  subscribeTimeout?: number;
  /** Subscriber liveness probe, ms; a missed reply makes the cache untrusted. Default `1_000`. */
  heartbeatInterval?: number;
  /**
   * What a save tells the other nodes. `'update'`: what it wrote (changed keys as stored, removed
   * keys, new version), so a node holding the version before applies it to its copy and keeps
   * serving from memory; `'invalidate'`: only the new version, so every other node drops its copy
   * and reads Redis on its next request for it. Default `'update'`.
   */
  propagation?: 'update' | 'invalidate';
  /** An update message above this many bytes is sent as an invalidation instead. Default `8_192`. */
  maxUpdateBytes?: number;
}

/**
 * Options of `ClusterSessionModule`. Times are in milliseconds.
 *
 * @publicApi
 */
export interface ClusterSessionOptions {
  /** Required. Signs cookies; an array rotates secrets (the first signs, all verify). Each at least 32 characters. */
  secret: string | string[];
  /** Redis connection. Default `'redis://127.0.0.1:6379'`. */
  redis?: RedisConnectionOption;
  /** Prefix of every Redis key. Default `'sess:'`. */
  keyPrefix?: string;
  /** Idle timeout; every save or (throttled) touch extends it. Default `3_600_000` (1 hour). */
  ttl?: number;
  /** A session is never served past `createdAt + absoluteTimeout`. Default `86_400_000` (24 hours). */
  absoluteTimeout?: number;
  /** Sliding expiry refreshes Redis at most this often per session. Default `60_000`. */
  touchAfter?: number;
  /** When false, an untouched new session costs no Redis write and sets no cookie. Default `false`. */
  saveUninitialized?: boolean;
  /** As express-session's: every response re-sends the cookie, with a fresh expiry. Default `false`. */
  rolling?: boolean;
  /** The session cookie. */
  cookie?: SessionCookieOptions;
  /** A save above this many bytes fails with `SessionTooLargeError`; nothing is written. Default `65_536`. */
  maxSessionBytes?: number;
  /** Cross-node coordination and the local cache. */
  cluster?: ClusterOptions;
  /** Moves express-session + connect-redis sessions into this module as their users come back. Default: off. */
  migrateFrom?: MigrateFromOptions;
  /**
   * Encrypts session values in Redis with AES-256-GCM. `true`: keys derived (HKDF) from the
   * secrets, rotating with them; `{ keys }`: your own 32-byte keys as 64 hex characters or base64,
   * the first encrypts, all decrypt. Default `false`.
   */
  encryption?: boolean | { keys: string[] };
  /**
   * While Redis is unreachable, answer reads with locally cached copies no older than
   * `cluster.localCacheTtl` (never one known destroyed or superseded) instead of failing.
   * Writes still fail. Default `false`.
   */
  serveStaleOnError?: boolean;
  /**
   * Prometheus metrics through `prom-client`, when it is installed: on by default (its global
   * registry, names prefixed `cluster_session_`); `false` turns them off; or `{ registry, prefix }`.
   */
  metrics?: boolean | MetricsOptions;
  /**
   * At most `limit` live sessions per user, enforced when a session gets its owner, across all
   * nodes: `'end-oldest'` ends the least recently active ones, `'refuse'` fails that login with
   * `TooManySessionsError` (a 409 through the HTTP layer). Default: no limit.
   */
  maxSessionsPerUser?: MaxSessionsPerUser;
  /**
   * A small description of the client (user agent, coarse location), recorded with a session
   * when it gets its owner and listed by `sessionsForUser`: at most 16 string values, 1,024
   * bytes in all. Default: nothing recorded.
   */
  describeClient?: DescribeClient;
  /** What `SessionEvents` reports beyond what the nodes do themselves. */
  events?: SessionEventsOptions;
}

/**
 * `events`.
 *
 * @publicApi
 */
export interface SessionEventsOptions {
  /**
   * `expired` events from Redis keyspace notifications (Redis must have `notify-keyspace-events`
   * with `Ex`; one more connection per node; one Pub/Sub message per expired key of the
   * database, to every node). Best effort, as Redis's delivery: sent when Redis deletes the key,
   * at most once, none while a node's connection is down. Not on Redis Cluster. Default `false`.
   */
  expired?: boolean;
}

/**
 * `maxSessionsPerUser`.
 *
 * @publicApi
 */
export interface MaxSessionsPerUser {
  /** At least 1. */
  limit: number;
  /** End the least recently active session(s), or refuse the new login. */
  onExceed: 'end-oldest' | 'refuse';
}

/** Options with every default filled in. */
export interface ResolvedClusterSessionOptions {
  secrets: string[];
  redis: RedisConnectionOption;
  keyPrefix: string;
  ttl: number;
  absoluteTimeout: number;
  touchAfter: number;
  saveUninitialized: boolean;
  rolling: boolean;
  maxSessionBytes: number;
  cookie: Required<Omit<SessionCookieOptions, 'domain' | 'maxAge'>> & {
    domain?: string;
    maxAge?: number;
  };
  cluster: Required<ClusterOptions>;
  migrateFrom: Required<MigrateFromOptions> | null;
  /** AES-256 keys for values at rest (the first encrypts), or null: stored in clear. */
  encryptionKeys: Buffer[] | null;
  serveStaleOnError: boolean;
  metrics: MetricsOptions | false;
  maxSessionsPerUser: MaxSessionsPerUser | null;
  describeClient: DescribeClient | null;
  events: Required<SessionEventsOptions>;
}
