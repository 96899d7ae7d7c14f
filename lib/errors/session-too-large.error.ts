import { sessionRef } from '../session/session-id.util';
import { ClusterSessionError } from './cluster-session.error';

/**
 * A save would store more than `maxSessionBytes`; nothing was written.
 *
 * @publicApi
 */
export class SessionTooLargeError extends ClusterSessionError {
  /**
   * The session's id. Not enumerable: error loggers that print an error's own properties (and
   * `JSON.stringify`) do not write a live session id into the logs; the message names it by
   * a short hash only.
   */
  declare readonly sessionId: string;

  constructor(
    sessionId: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      `session ${sessionRef(sessionId)} is ${kb(bytes)}, limit ${kb(limit)} (option maxSessionBytes); ` +
        'nothing was written: store less in the session or raise the limit',
    );
    Object.defineProperty(this, 'sessionId', { value: sessionId, enumerable: false });
  }
}

function kb(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${Math.round(bytes / 1024)} KB`;
}
