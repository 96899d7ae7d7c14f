export { LocalCache } from './cache/local-cache.service';
export type { CacheStats, LocalCacheOptions } from './cache/local-cache.interface';
export type { DeepReadonly } from './cache/deep-freeze.util';
export { ClusterSessionError } from './errors/cluster-session.error';
export { InvalidOptionsError } from './errors/invalid-options.error';
