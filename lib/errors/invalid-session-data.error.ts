import { ClusterSessionError } from './cluster-session.error';

/**
 * Session data that cannot be stored as JSON (a BigInt, a cycle, a reserved key). Nothing was written.
 *
 * @publicApi
 */
export class InvalidSessionDataError extends ClusterSessionError {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(
      `session key "${key}" cannot be stored: ${reason}; session values must be JSON-serializable`,
    );
  }
}
