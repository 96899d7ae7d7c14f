/** Options after validation and defaults (`ResolvedClusterSessionOptions`). */
export const CLUSTER_SESSION_OPTIONS = Symbol('CLUSTER_SESSION_OPTIONS');
/** The ioredis command connection the store uses. */
export const CLUSTER_SESSION_REDIS = Symbol('CLUSTER_SESSION_REDIS');
