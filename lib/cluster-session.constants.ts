/** Options after validation and defaults (`ResolvedClusterSessionOptions`). */
export const CLUSTER_SESSION_OPTIONS = Symbol('CLUSTER_SESSION_OPTIONS');

/** Provided by `forRoot`/`forRootAsync` only: the class imported as is has no options at all. */
export const CLUSTER_SESSION_CONFIGURED = Symbol('CLUSTER_SESSION_CONFIGURED');
