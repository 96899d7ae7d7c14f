/** Options after validation and defaults (`ResolvedClusterSessionOptions`). */
export const CLUSTER_SESSION_OPTIONS = Symbol('CLUSTER_SESSION_OPTIONS');
