export { LocalCache } from './cache/local-cache.service';
export type { CacheStats, LocalCacheOptions } from './cache/local-cache.interface';
export type { DeepReadonly } from './cache/deep-freeze.util';
export { SessionStore } from './store/session-store';
export { Session } from './session/session';
export type { SessionState } from './session/session';
export type { SessionData } from './session/session-data.interface';
export type {
  ClusterOptions,
  ClusterSessionOptions,
  SessionCookieOptions,
} from './options/cluster-session-options.interface';
export type { RedisConnectionOption } from './redis/redis-connection.interface';
export { ClusterSessionError } from './errors/cluster-session.error';
export { InvalidOptionsError } from './errors/invalid-options.error';
export { InvalidSessionDataError } from './errors/invalid-session-data.error';
export { SessionStoreUnavailableError } from './errors/session-store-unavailable.error';
export { SessionTooLargeError } from './errors/session-too-large.error';
