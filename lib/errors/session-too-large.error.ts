import { sessionRef } from '../session/session-id.util';
import { ClusterSessionError } from './cluster-session.error';

/**
 * A save would store more than `maxSessionBytes`; nothing was written.
 *
 * @publicApi
 */
export class SessionTooLargeError extends ClusterSessionError {
  constructor(
    readonly sessionId: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      `session ${sessionRef(sessionId)} is ${kb(bytes)}, limit ${kb(limit)} (option maxSessionBytes); ` +
        'nothing was written: store less in the session or raise the limit',
    );
  }
}

function kb(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${Math.round(bytes / 1024)} KB`;
}
