export { ClusterSessionModule } from './cluster-session.module';
export { CLUSTER_SESSION_MODULE_OPTIONS } from './cluster-session.module-definition';
export { CLUSTER_SESSION_OPTIONS, CLUSTER_SESSION_REDIS } from './cluster-session.constants';
export { ClusterSessionRuntime } from './cluster-session.runtime';
export { SessionStore } from './store/session-store';
export { ClusterCoordinator } from './cluster/cluster-coordinator.service';
export type { ClusterStats } from './cluster/cluster-stats.interface';
export type { LagStats } from './cluster/lag-recorder';
export { LocalCache } from './cache/local-cache.service';
export type { CacheStats, LocalCacheOptions } from './cache/local-cache.interface';
export type { DeepReadonly } from './cache/deep-freeze.util';
export { Session as SessionRecord } from './session/session';
export type { SessionState } from './session/session';
export { SessionHandle } from './session/session-handle';
export type { ExpressSessionApi, ExpressSessionView } from './session/express-session.view';
export type { SessionCookie } from './session/session-cookie';
export type { SessionData } from './session/session-data.interface';
export { Session } from './decorators/session.decorator';
export { InjectSessionStore } from './decorators/inject-session-store.decorator';
export { SessionLoadGuard } from './http/session-load.guard';
export { ClusterSessionHealthIndicator } from './health/cluster-session.health';
export type {
  ClusterOptions,
  ClusterSessionOptions,
  ResolvedClusterSessionOptions,
  SessionCookieOptions,
} from './options/cluster-session-options.interface';
export type { RedisConnectionOption } from './redis/redis-connection.interface';
export { ClusterSessionError } from './errors/cluster-session.error';
export { InvalidOptionsError } from './errors/invalid-options.error';
export { InvalidSessionDataError } from './errors/invalid-session-data.error';
export { SessionStoreUnavailableError } from './errors/session-store-unavailable.error';
export { SessionTooLargeError } from './errors/session-too-large.error';
