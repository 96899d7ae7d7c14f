import type { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { ClusterSessionRuntime } from '../cluster-session.runtime';
import { describeEndpoint } from '../redis/redis-endpoint.util';
import {
  authenticationFailure,
  credentialsRefused,
  lastConnectionError,
} from '../redis/redis-connection.watcher';

/** Longest a health check waits for Redis to answer PING. */
const PING_TIMEOUT = 1_000;

/**
 * Terminus health indicator (Terminus 11+ `HealthIndicatorService` style). `up` with the Redis
 * ping, subscriber state and cache statistics; `down` when Redis does not answer in time or the
 * subscriber is not subscribed. Never throws. Terminus stays an optional peer dependency: this
 * file imports only its types, and the module provides the indicator only when it is installed.
 *
 * @publicApi
 */
export class ClusterSessionHealthIndicator {
  constructor(
    private readonly runtime: ClusterSessionRuntime,
    private readonly health: HealthIndicatorService,
  ) {}

  async isHealthy<const Key extends string = 'session'>(
    key: Key = 'session' as Key,
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.health.check(key);
    const { coordinator, cache } = this.runtime;
    const cluster = coordinator.enabled ? coordinator.stats() : undefined;
    const details = {
      subscriber: cluster ? (cluster.subscribed ? 'subscribed' : 'disconnected') : 'disabled',
      cacheTrusted: cluster?.trusted ?? cache.enabled,
      ...(cluster?.unverified ? { unverifiedMessages: cluster.unverified } : {}),
      cache: this.runtime.store.cacheStats(),
      ...(cluster ? { invalidationLagMs: { p50: cluster.lagMs.p50, p99: cluster.lagMs.p99 } } : {}),
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      const started = performance.now();
      await Promise.race([
        this.runtime.redis.ping(),
        new Promise(
          (_, reject) => (timer = setTimeout(() => reject(new PingTimeout()), PING_TIMEOUT)),
        ),
      ]);
      const redis = { redis: 'up', pingMs: Math.round((performance.now() - started) * 100) / 100 };
      if (cluster && !cluster.subscribed) {
        return indicator.down({ ...redis, ...details, message: 'subscriber not subscribed' });
      }
      return indicator.up({ ...redis, ...details });
    } catch (error) {
      return indicator.down({ redis: 'down', ...details, message: this.whatIsWrong(error) });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Why Redis is down, in words (ioredis's own messages say little to an operator). */
  private whatIsWrong(error: unknown): string {
    const { redis } = this.runtime;
    const endpoint = describeEndpoint(redis);
    if (redis.status !== 'ready') {
      const last = lastConnectionError(redis);
      if (authenticationFailure(last)) {
        return credentialsRefused(endpoint, last!);
      }
      return `${endpoint} is not connected (connection ${redis.status}${last ? `: ${last}` : ''})`;
    }
    if (error instanceof PingTimeout) {
      return `${endpoint} did not answer PING within ${PING_TIMEOUT} ms`;
    }
    return `${endpoint} answered PING with an error: ${error instanceof Error ? error.message : String(error)}`;
  }
}

class PingTimeout extends Error {}
