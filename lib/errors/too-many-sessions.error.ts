import { ClusterSessionError } from './cluster-session.error';

/**
 * A login was refused: the user has `maxSessionsPerUser.limit` live sessions already
 * (`onExceed: 'refuse'`). The HTTP layer answers 409; nothing of the refused login is kept.
 *
 * @publicApi
 */
export class TooManySessionsError extends ClusterSessionError {
  constructor(readonly limit: number) {
    super(
      `the user has ${limit} live session(s), the limit (option maxSessionsPerUser): ` +
        'this login is refused; sign out elsewhere first',
    );
  }
}
