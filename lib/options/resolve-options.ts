import { randomUUID } from 'node:crypto';
import { stringifySetCookie } from 'cookie';
import { deriveEncryptionKeys } from '../crypto/field-cipher';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import type { MetricsOptions } from '../metrics/cluster-session-metrics';
import { isClusterConnection, isRedisInstance } from '../redis/redis-connection.factory';
import type { RedisConnectionOption } from '../redis/redis-connection.interface';
import type {
  ClusterSessionOptions,
  MaxSessionsPerUser,
  MigrateFromOptions,
  ResolvedClusterSessionOptions,
} from './cluster-session-options.interface';

export const MIN_SECRET_LENGTH = 32;
/** Browsers cap a cookie's lifetime at 400 days. */
export const LONGEST_COOKIE = 400 * 86_400_000;

/** Validates options and fills in the defaults; throws {@link InvalidOptionsError} on the first bad one. */
export function resolveOptions(options: ClusterSessionOptions): ResolvedClusterSessionOptions {
  if (!isPlainObject(options)) {
    throw new InvalidOptionsError('options', options, 'an object');
  }
  const cookie = optionalObject('cookie', options.cookie);
  const cluster = optionalObject('cluster', options.cluster);
  const enabled = bool('cluster.enabled', cluster.enabled, true);
  const ttl = duration('ttl', options.ttl, 3_600_000);
  const absoluteTimeout = duration('absoluteTimeout', options.absoluteTimeout, 86_400_000, {
    max: LONGEST_COOKIE,
  });
  const resolved: ResolvedClusterSessionOptions = {
    secrets: secrets(options.secret),
    redis: redis(options.redis),
    keyPrefix: text(
      'keyPrefix',
      options.keyPrefix,
      'sess:',
      /^[^\s{}]{1,64}$/,
      '1 to 64 characters without spaces or braces (braces would change the Redis Cluster hash slot; an empty prefix would let clear() delete the whole database)',
    ),
    ttl,
    absoluteTimeout,
    // a touch only helps if it can happen before the idle timeout runs out
    touchAfter: duration('touchAfter', options.touchAfter, Math.min(60_000, Math.floor(ttl / 2)), {
      min: 0,
      max: ttl - 1,
    }),
    saveUninitialized: bool('saveUninitialized', options.saveUninitialized, false),
    rolling: bool('rolling', options.rolling, false),
    maxSessionBytes: integer('maxSessionBytes', options.maxSessionBytes, 65_536, 1),
    cookie: {
      name: text(
        'cookie.name',
        cookie.name,
        'sid',
        /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/,
        'a cookie name (RFC 6265 token)',
      ),
      path: serializable(
        'cookie.path',
        text('cookie.path', cookie.path, '/', /^\/[^;\s]*$/, 'a path starting with "/"'),
        'path',
        'a path starting with "/"',
      ),
      domain:
        cookie.domain === undefined
          ? undefined
          : serializable(
              'cookie.domain',
              text('cookie.domain', cookie.domain, '', /^[^;\s]+$/, 'a domain'),
              'domain',
              'a domain name, such as "example.com" or ".example.com" (no port, no scheme)',
            ),
      httpOnly: bool('cookie.httpOnly', cookie.httpOnly, true),
      secure: oneOf('cookie.secure', cookie.secure, 'auto', [true, false, 'auto']),
      sameSite: oneOf('cookie.sameSite', cookie.sameSite, 'lax', ['lax', 'strict', 'none']),
      maxAge:
        cookie.maxAge === undefined
          ? undefined
          : duration('cookie.maxAge', cookie.maxAge, 0, { min: 1_000, max: LONGEST_COOKIE }),
    },
    migrateFrom: migrateFrom(options.migrateFrom),
    encryptionKeys: encryption(options.encryption, options.secret),
    serveStaleOnError: bool('serveStaleOnError', options.serveStaleOnError, false),
    metrics: metrics(options.metrics),
    maxSessionsPerUser: maxSessionsPerUser(options.maxSessionsPerUser),
    events: {
      expired: bool('events.expired', optionalObject('events', options.events).expired, false),
    },
    describeClient: optionalFunction<ResolvedClusterSessionOptions['describeClient']>(
      'describeClient',
      options.describeClient,
    ),
    cluster: {
      enabled,
      nodeId: text(
        'cluster.nodeId',
        cluster.nodeId,
        randomUUID(),
        /^[^\s|,]{1,128}$/, // "|" and "," separate the fields of a cluster message
        '1 to 128 characters without spaces, "|" or ","',
      ),
      channel: text(
        'cluster.channel',
        cluster.channel,
        'session:cluster:invalidate',
        /^.{1,256}$/,
        'a channel name',
      ),
      localCacheEnabled: bool('cluster.localCacheEnabled', cluster.localCacheEnabled, enabled),
      localCacheTtl: duration('cluster.localCacheTtl', cluster.localCacheTtl, 30_000),
      localCacheMaxSize: integer('cluster.localCacheMaxSize', cluster.localCacheMaxSize, 10_000, 1),
      subscribeTimeout: duration('cluster.subscribeTimeout', cluster.subscribeTimeout, 5_000),
      heartbeatInterval: duration('cluster.heartbeatInterval', cluster.heartbeatInterval, 1_000),
      propagation: oneOf('cluster.propagation', cluster.propagation, 'update', [
        'update',
        'invalidate',
      ]),
      // a message the receivers would not read must never be sent (see MAX_MESSAGE_LENGTH)
      maxUpdateBytes: integer(
        'cluster.maxUpdateBytes',
        cluster.maxUpdateBytes,
        8_192,
        256,
        524_288,
      ),
    },
  };
  checkCookiePrefix(resolved.cookie);
  // keyspace notifications are per shard: one subscription would hear one shard's expiries
  check(!resolved.events.expired || !isClusterConnection(resolved.redis), [
    'events.expired',
    true,
    'false on Redis Cluster (keyspace notifications are per shard)',
  ]);
  check(resolved.migrateFrom?.cookieName !== resolved.cookie.name, [
    'migrateFrom.cookieName',
    resolved.migrateFrom?.cookieName,
    `a name other than cookie.name ("${resolved.cookie.name}"): the old cookie and the new one must differ`,
  ]);
  return resolved;
}

/**
 * Browsers drop `__Host-` cookies unless Secure, on path `/` and without Domain, and `__Secure-`
 * cookies unless Secure: refuse such a configuration at startup rather than lose every session.
 */
function checkCookiePrefix({
  name,
  path,
  domain,
  secure,
  sameSite,
}: ResolvedClusterSessionOptions['cookie']) {
  // browsers ignore a Set-Cookie over 4,096 bytes; ours is the name, a value of at most
  // 150 characters (id, version, signature) and the attributes
  const longest = name.length + 150 + path.length + (domain?.length ?? 0) + 80;
  if (longest > 4_096) {
    throw new InvalidOptionsError(
      'cookie',
      undefined,
      'a name, path and domain short enough for a Set-Cookie under 4,096 bytes',
      `${longest} bytes at most`,
    );
  }
  // browsers reject SameSite=None without Secure, and 'auto' sends it without over plain HTTP
  if (sameSite === 'none') {
    check(secure === true, ['cookie.secure', secure, 'true with cookie.sameSite "none"']);
  }
  // browsers match the prefixes whatever their case
  const prefix = name.toLowerCase();
  if (prefix.startsWith('__host-') || prefix.startsWith('__secure-')) {
    check(secure === true, ['cookie.secure', secure, `true for a cookie named ${name}`]);
  }
  if (prefix.startsWith('__host-')) {
    check(path === '/', ['cookie.path', path, `"/" for a cookie named ${name}`]);
    check(domain === undefined, ['cookie.domain', domain, `no domain for a cookie named ${name}`]);
  }
}

/** Throws the InvalidOptionsError described by `error` unless `ok`. */
function check(ok: boolean, error: ConstructorParameters<typeof InvalidOptionsError>): void {
  if (!ok) {
    throw new InvalidOptionsError(...error);
  }
}

function encryption(value: unknown, secret: unknown): Buffer[] | null {
  if (value === undefined || value === false) {
    return null;
  }
  if (value === true) {
    return deriveEncryptionKeys(secrets(secret));
  }
  const allowed =
    'true, false, or { keys: [...] } with 32-byte keys as 64 hex characters or base64';
  const keys = isPlainObject(value) ? value.keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new InvalidOptionsError('encryption', undefined, allowed, describeKind(value));
  }
  return keys.map((key: unknown, index) => {
    const bytes =
      typeof key !== 'string'
        ? undefined
        : /^[0-9a-fA-F]{64}$/.test(key)
          ? Buffer.from(key, 'hex')
          : Buffer.from(key, 'base64');
    if (!bytes || bytes.length !== 32) {
      // never print a key, even a rejected one
      const given = typeof key === 'string' ? `a string of ${key.length} characters` : typeof key;
      throw new InvalidOptionsError(`encryption.keys[${index}]`, undefined, 'a 32-byte key', given);
    }
    return bytes;
  });
}

function maxSessionsPerUser(value: unknown): MaxSessionsPerUser | null {
  if (value === undefined) {
    return null;
  }
  const given = optionalObject('maxSessionsPerUser', value);
  return {
    limit: integer('maxSessionsPerUser.limit', given.limit ?? NaN, 1, 1, 10_000),
    onExceed: oneOf(
      'maxSessionsPerUser.onExceed',
      given.onExceed ?? null,
      'end-oldest' as MaxSessionsPerUser['onExceed'],
      ['end-oldest', 'refuse'],
    ),
  };
}

function optionalFunction<F>(name: string, value: unknown): F | null {
  if (value === undefined) {
    return null;
  }
  check(typeof value === 'function', [name, value, 'a function']);
  return value as F;
}

function metrics(value: unknown): MetricsOptions | false {
  if (value === undefined || value === true) {
    return {};
  }
  if (value === false) {
    return false;
  }
  if (!isPlainObject(value)) {
    throw new InvalidOptionsError('metrics', value, 'true, false, or { registry, prefix }');
  }
  const prefix = value.prefix;
  if (
    prefix !== undefined &&
    (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix))
  ) {
    throw new InvalidOptionsError('metrics.prefix', prefix, 'a Prometheus metric name prefix');
  }
  return value as MetricsOptions;
}

function describeKind(value: unknown): string {
  if (isPlainObject(value)) {
    return 'an object with no keys';
  }
  return Array.isArray(value) ? 'an array' : typeof value;
}

/** Secrets at once: each signs every Pub/Sub message while they rotate (see MessageAuthenticator). */
const MAX_SECRETS = 8;

function secrets(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  const allowed = `a string of at least ${MIN_SECRET_LENGTH} characters, or a non-empty array of them (the first signs, all verify)`;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_SECRETS) {
    throw new InvalidOptionsError(
      'secret',
      undefined,
      `${allowed}; at most ${MAX_SECRETS}`,
      !Array.isArray(list)
        ? String(typeof value)
        : list.length === 0
          ? 'an empty array'
          : `${list.length} secrets`,
    );
  }
  list.forEach((secret: unknown, index) => {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
      const name = typeof value === 'string' ? 'secret' : `secret[${index}]`;
      // never print a secret, even a rejected one
      const given =
        typeof secret === 'string' ? `a string of ${secret.length} characters` : typeof secret;
      throw new InvalidOptionsError(name, undefined, allowed, given);
    }
  });
  return [...(list as string[])];
}

function redis(value: unknown): RedisConnectionOption {
  if (value === undefined) {
    return 'redis://127.0.0.1:6379';
  }
  if (typeof value === 'string' && /^rediss?:\/\//.test(value)) {
    return value;
  }
  if (isRedisInstance(value)) {
    return value;
  }
  if (isPlainObject(value)) {
    if ('clusterNodes' in value) {
      const { clusterNodes, clusterOptions } = value;
      check(Array.isArray(clusterNodes) && clusterNodes.length > 0, [
        'redis.clusterNodes',
        clusterNodes,
        'a non-empty array of nodes',
      ]);
      check(clusterOptions === undefined || isPlainObject(clusterOptions), [
        'redis.clusterOptions',
        clusterOptions,
        'ioredis Cluster options',
      ]);
    }
    if ('sentinels' in value) {
      const { sentinels, name } = value;
      check(Array.isArray(sentinels) && sentinels.length > 0, [
        'redis.sentinels',
        sentinels,
        'a non-empty array of { host, port }',
      ]);
      check(typeof name === 'string' && name.length > 0, [
        'redis.name',
        name,
        'the name of the primary the sentinels monitor',
      ]);
    }
    return value as RedisConnectionOption;
  }
  throw new InvalidOptionsError(
    'redis',
    value,
    'a redis:// or rediss:// URL, ioredis options, { sentinels, name }, { clusterNodes }, ' +
      'or an ioredis Redis or Cluster instance',
  );
}

function duration(
  name: string,
  value: unknown,
  fallback: number,
  { min = 1, max = 2 ** 31 - 1 } = {},
): number {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionsError(
      name,
      value,
      `an integer number of milliseconds from ${min} to ${max}`,
    );
  }
  return value;
}

function integer(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new InvalidOptionsError(name, value, `an integer ${range}`);
  }
  return value;
}

function bool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== 'boolean') {
    throw new InvalidOptionsError(name, value, 'true or false');
  }
  return value;
}

/**
 * A cookie attribute as the Set-Cookie serializer will take it: one it would refuse (a domain with
 * a port, say) fails here, at startup, not in every response that sets the cookie.
 */
function serializable(
  name: string,
  value: string,
  attribute: 'path' | 'domain',
  allowed: string,
): string {
  try {
    stringifySetCookie('sid', 'x', { [attribute]: value });
  } catch {
    throw new InvalidOptionsError(name, value, allowed);
  }
  return value;
}

function text(
  name: string,
  value: unknown,
  fallback: string,
  pattern: RegExp,
  allowed: string,
): string {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new InvalidOptionsError(name, value, allowed);
  }
  return value;
}

function oneOf<T>(name: string, value: unknown, fallback: T, allowed: readonly T[]): T {
  if (value === undefined) {
    return fallback;
  }
  if (!allowed.includes(value as T)) {
    throw new InvalidOptionsError(
      name,
      value,
      `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
    );
  }
  return value as T;
}

function migrateFrom(value: unknown): ResolvedClusterSessionOptions['migrateFrom'] {
  if (value === undefined) {
    return null;
  }
  const given = optionalObject('migrateFrom', value);
  if (given.userOf !== undefined && typeof given.userOf !== 'function') {
    throw new InvalidOptionsError(
      'migrateFrom.userOf',
      given.userOf,
      'a function of the session data',
    );
  }
  return {
    userOf: (given.userOf as Required<MigrateFromOptions>['userOf'] | undefined) ?? passportUser,
    cookieName: text(
      'migrateFrom.cookieName',
      given.cookieName,
      'connect.sid',
      /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/,
      'a cookie name (RFC 6265 token)',
    ),
    keyPrefix: text(
      'migrateFrom.keyPrefix',
      given.keyPrefix,
      'sess:',
      /^\S{1,64}$/,
      '1 to 64 characters without spaces',
    ),
  };
}

/** Passport's serialized user (`req.session.passport.user`), when it is a string or a number. */
function passportUser(data: Record<string, unknown>): string | null {
  const user = (data.passport as { user?: unknown } | undefined)?.user;
  return typeof user === 'string' || typeof user === 'number' ? String(user) : null;
}

function optionalObject(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) {
    return {};
  }
  if (!isPlainObject(value)) {
    throw new InvalidOptionsError(name, value, 'an object');
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
