import Redis from 'ioredis';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import type { ClusterSessionOptions } from './cluster-session-options.interface';
import { resolveOptions } from './resolve-options';

const secret = 's'.repeat(32);

describe('resolveOptions', () => {
  it('fills in the documented defaults', () => {
    const options = resolveOptions({ secret });
    expect(options).toMatchObject({
      secrets: [secret],
      redis: 'redis://127.0.0.1:6379',
      keyPrefix: 'sess:',
      ttl: 3_600_000,
      absoluteTimeout: 86_400_000,
      touchAfter: 60_000,
      saveUninitialized: false,
      maxSessionBytes: 65_536,
      cookie: { name: 'sid', path: '/', httpOnly: true, secure: 'auto', sameSite: 'lax' },
      cluster: {
        enabled: true,
        channel: 'session:cluster:invalidate',
        localCacheEnabled: true,
        localCacheTtl: 30_000,
        localCacheMaxSize: 10_000,
        subscribeTimeout: 5_000,
        heartbeatInterval: 1_000,
      },
    });
    expect(options.cluster.nodeId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('turns the local cache off without Pub/Sub unless it is asked for', () => {
    expect(resolveOptions({ secret, cluster: { enabled: false } }).cluster.localCacheEnabled).toBe(
      false,
    );
    expect(
      resolveOptions({ secret, cluster: { enabled: false, localCacheEnabled: true } }).cluster
        .localCacheEnabled,
    ).toBe(true);
  });

  it('keeps touchAfter below the idle timeout', () => {
    expect(resolveOptions({ secret, ttl: 10_000 }).touchAfter).toBe(5_000);
    expect(() => resolveOptions({ secret, ttl: 10_000, touchAfter: 10_000 })).toThrow(
      /touchAfter: got 10000/,
    );
  });

  it('never prints a secret in an error', () => {
    expect(() => resolveOptions({ secret: 'hunter2-is-my-password' })).toThrow(
      /got a string of 22 characters/,
    );
    expect(() => resolveOptions({ secret: 'hunter2-is-my-password' })).not.toThrow(/hunter2/);
  });

  it('accepts secret arrays and Redis instances', () => {
    const redis = new Redis({ lazyConnect: true });
    expect(resolveOptions({ secret: [secret, 't'.repeat(40)], redis })).toMatchObject({
      secrets: [secret, 't'.repeat(40)],
      redis,
    });
    redis.disconnect();
  });

  it('accepts a __Host- cookie that is secure, on "/", without a domain', () => {
    const { cookie } = resolveOptions({ secret, cookie: { name: '__Host-sid', secure: true } });
    expect(cookie).toMatchObject({ name: '__Host-sid', secure: true, path: '/' });
  });

  it('accepts Sentinel and Cluster configurations', () => {
    const sentinel = { sentinels: [{ host: '127.0.0.1', port: 26379 }], name: 'primary' };
    expect(resolveOptions({ secret, redis: sentinel }).redis).toBe(sentinel);
    const cluster = {
      clusterNodes: ['127.0.0.1:7000'],
      clusterOptions: { scaleReads: 'master' as const },
    };
    expect(resolveOptions({ secret, redis: cluster }).redis).toBe(cluster);
  });

  it.each<[string, unknown, RegExp]>([
    [
      'no secret',
      {},
      /Invalid option secret: got undefined; expected a string of at least 32 characters/,
    ],
    ['a short secret', { secret: 'short' }, /secret: got a string of 5 characters/],
    [
      'a short rotated secret',
      { secret: [secret, 'x'] },
      /secret\[1\]: got a string of 1 characters/,
    ],
    ['an empty secret array', { secret: [] }, /secret: got an empty array/],
    [
      'a ttl as a string',
      { secret, ttl: '1h' },
      /ttl: got "1h"; expected an integer number of milliseconds/,
    ],
    ['a negative absoluteTimeout', { secret, absoluteTimeout: -1 }, /absoluteTimeout: got -1/],
    [
      'a fractional maxSessionBytes',
      { secret, maxSessionBytes: 1.5 },
      /maxSessionBytes: got 1.5; expected an integer/,
    ],
    [
      'a redis number',
      { secret, redis: 6379 },
      /redis: got 6379; expected a redis:\/\/ or rediss:\/\/ URL/,
    ],
    ['an http url', { secret, redis: 'http://x' }, /redis: got "http:\/\/x"/],
    [
      'a bad sameSite',
      { secret, cookie: { sameSite: 'sometimes' } },
      /cookie.sameSite: got "sometimes"; expected one of "lax", "strict", "none"/,
    ],
    [
      'a cookie name with a space',
      { secret, cookie: { name: 'my sid' } },
      /cookie.name: got "my sid"/,
    ],
    [
      'a string flag',
      { secret, cluster: { enabled: 'yes' } },
      /cluster.enabled: got "yes"; expected true or false/,
    ],
    [
      'a zero cache size',
      { secret, cluster: { localCacheMaxSize: 0 } },
      /cluster.localCacheMaxSize: got 0/,
    ],
    [
      'a zero cache TTL',
      { secret, cluster: { localCacheTtl: 0 } },
      /cluster\.localCacheTtl: got 0; expected an integer number of milliseconds/,
    ],
    [
      'a NaN cache TTL',
      { secret, cluster: { localCacheTtl: Number.NaN } },
      /cluster\.localCacheTtl: got NaN/,
    ],
    [
      'a cache TTL as text',
      { secret, cluster: { localCacheTtl: '30s' } },
      /cluster\.localCacheTtl: got "30s"/,
    ],
    [
      'a fractional cache size',
      { secret, cluster: { localCacheMaxSize: 1.5 } },
      /cluster\.localCacheMaxSize: got 1\.5; expected an integer/,
    ],
    [
      'a negative cache size',
      { secret, cluster: { localCacheMaxSize: -1 } },
      /cluster\.localCacheMaxSize: got -1/,
    ],
    ['cluster as a string', { secret, cluster: 'on' }, /cluster: got "on"; expected an object/],
    [
      'a __Host- cookie that is not always secure',
      { secret, cookie: { name: '__Host-sid' } },
      /cookie.secure: got "auto"; expected true for a cookie named __Host-sid/,
    ],
    [
      'a __Host- cookie with a domain',
      { secret, cookie: { name: '__Host-sid', secure: true, domain: 'example.com' } },
      /cookie.domain: got "example.com"; expected no domain/,
    ],
    [
      'a __Host- cookie on a sub-path',
      { secret, cookie: { name: '__Host-sid', secure: true, path: '/app' } },
      /cookie.path: got "\/app"; expected "\/" for a cookie named __Host-sid/,
    ],
    [
      'a __Secure- cookie that is not secure',
      { secret, cookie: { name: '__Secure-sid', secure: false } },
      /cookie.secure: got false; expected true/,
    ],
    [
      'encryption without keys',
      { secret, encryption: { keys: [] } },
      /encryption: got an object with no keys; expected true, false, or \{ keys: \[...\] \}/,
    ],
    [
      'an encryption key of the wrong size (not printed)',
      { secret, encryption: { keys: ['c2hvcnQta2V5'] } },
      /encryption.keys\[0\]: got a string of 12 characters; expected a 32-byte key/,
    ],
    [
      'a cookie too long for browsers',
      { secret, cookie: { path: `/${'p'.repeat(4_000)}` } },
      /cookie: got 4\d{3} bytes at most; expected a name, path and domain short enough/,
    ],
    [
      '#25 review: a __Host- prefix in another case is checked too (browsers ignore the case)',
      { secret, cookie: { name: '__HOST-sid', secure: true, domain: 'example.com' } },
      /cookie.domain: got "example.com"; expected no domain for a cookie named __HOST-sid/,
    ],
    [
      '#25 a cookie domain with a port (every Set-Cookie would fail)',
      { secret, cookie: { domain: 'localhost:3000' } },
      /cookie.domain: got "localhost:3000"; expected a domain name, such as "example.com"/,
    ],
    [
      '#25 a cookie domain with a scheme',
      { secret, cookie: { domain: 'https://example.com' } },
      /cookie.domain: got "https:\/\/example.com"; expected a domain name/,
    ],
    [
      '#25 a cookie path the serializer refuses',
      { secret, cookie: { path: '/caf\u00e9' } },
      /cookie.path: got "\/café"; expected a path starting with "\/"/,
    ],
    [
      'a keyPrefix with a hash tag',
      { secret, keyPrefix: 'app{1}:' },
      /keyPrefix: got "app\{1\}:"; expected .*without spaces or braces/,
    ],
    [
      '#14.14 an empty keyPrefix (clear() would delete the whole database)',
      { secret, keyPrefix: '' },
      /keyPrefix: got ""; expected 1 to 64 characters.*clear\(\) delete the whole database/,
    ],
    [
      '#23 a propagation that does not exist',
      { secret, cluster: { propagation: 'broadcast' as never } },
      /cluster.propagation: got "broadcast"; expected one of "update", "invalidate"/,
    ],
    [
      '#23 a maxUpdateBytes above what receivers read (1 MiB)',
      { secret, cluster: { maxUpdateBytes: 4_000_000 } },
      /cluster.maxUpdateBytes: got 4000000; expected an integer from 256 to 524288/,
    ],
    [
      'sameSite none without secure: true (browsers drop it)',
      { secret, cookie: { sameSite: 'none' } },
      /cookie.secure: got "auto"; expected true with cookie.sameSite "none"/,
    ],
    [
      'an empty cluster node list',
      { secret, redis: { clusterNodes: [] } },
      /redis.clusterNodes: got an array of 0; expected a non-empty array of nodes/,
    ],
    [
      'sentinels without a primary name',
      { secret, redis: { sentinels: [{ host: '127.0.0.1', port: 26379 }] } },
      /redis.name: got undefined; expected the name of the primary/,
    ],
  ])('rejects %s with a clear message', (_name, options, message) => {
    expect(() => resolveOptions(options as ClusterSessionOptions)).toThrow(InvalidOptionsError);
    expect(() => resolveOptions(options as ClusterSessionOptions)).toThrow(message);
  });
});
