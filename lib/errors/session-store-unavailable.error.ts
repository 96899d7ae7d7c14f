import { ClusterSessionError } from './cluster-session.error';

/**
 * Redis did not answer in time or is not connected. Retryable: the HTTP layer answers 503 with
 * `Retry-After`; the store recovers by itself once Redis is back.
 *
 * @publicApi
 */
export class SessionStoreUnavailableError extends ClusterSessionError {
  constructor(
    readonly operation: string,
    override readonly cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `session store unavailable during ${operation}: ${reason}; Redis is down or too slow, retry later`,
    );
  }
}
