// The public API: what the README documents, and nothing else (lib/index.spec.ts holds the list).

// the module and what it provides
export { ClusterSessionModule } from './cluster-session.module';
export { SessionStore } from './store/session-store';
export { ClusterCoordinator } from './cluster/cluster-coordinator';
export { LocalCache } from './cache/local-cache';
export { ClusterSessionHealthIndicator } from './health/cluster-session.health';
export { SessionEvents } from './events/session-events';

// a request's session
export { SessionHandle } from './session/session-handle';
export { Session } from './decorators/session.decorator';
export { InjectSessionStore } from './decorators/inject-session-store.decorator';
export { SessionLoadGuard } from './http/session-load.guard';

// options and data types
export type {
  ClusterOptions,
  ClusterSessionOptions,
  MaxSessionsPerUser,
  SessionCookieOptions,
  SessionEventsOptions,
} from './options/cluster-session-options.interface';
export type { SessionEndReason, SessionEvent } from './events/session-events';
export type { ClientDescription } from './session/client-description';
export type { RedisConnectionOption } from './redis/redis-connection.interface';
export type { SessionData } from './session/session-data.interface';
export type { Session as SessionRecord } from './session/session';
export type { SessionCookie } from './session/session-cookie';
export type { ExpressSessionView } from './session/express-session.view';
export type { CacheStats } from './cache/local-cache.interface';
export type { DestroyAllOptions, SessionInfo, SessionsForUserOptions } from './store/session-store';
export type { ClusterStats } from './cluster/cluster-stats.interface';

// errors
export { ClusterSessionError } from './errors/cluster-session.error';
export { InvalidOptionsError } from './errors/invalid-options.error';
export { InvalidSessionDataError } from './errors/invalid-session-data.error';
export { SessionStoreUnavailableError } from './errors/session-store-unavailable.error';
export { SessionTooLargeError } from './errors/session-too-large.error';
export { TooManySessionsError } from './errors/too-many-sessions.error';
