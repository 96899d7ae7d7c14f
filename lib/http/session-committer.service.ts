import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { ClusterSessionRuntime } from '../cluster-session.runtime';
import { SessionStoreUnavailableError } from '../errors/session-store-unavailable.error';
import { TooManySessionsError } from '../errors/too-many-sessions.error';
import { TOO_MANY_SESSIONS_BODY } from './session-unavailable.filter';
import type { SessionHandle } from '../session/session-handle';
import { SessionCookieService } from './session-cookie.service';

/** What the response must carry after the commit. */
export interface CommitOutcome {
  /** A Set-Cookie value to add. */
  cookie?: string;
  /** The commit failed: answer this instead of what the handler produced. */
  failure?: { status: number; body: string; retryAfter?: string };
}

/**
 * Commits a request's session before the first byte of its response leaves: the platform hooks
 * (the `ResponseGate` on the raw response; on Fastify also `onSend`) call it when the handle has
 * something to write, touch or set.
 */
@Injectable()
export class SessionCommitter {
  private readonly logger = new Logger('ClusterSession');

  constructor(
    private readonly runtime: ClusterSessionRuntime,
    private readonly cookies: SessionCookieService,
  ) {}

  async commit(handle: SessionHandle, secureRequest: boolean): Promise<CommitOutcome> {
    try {
      const action = await this.runtime.track(handle.commit());
      return action ? { cookie: this.cookies.serialize(action, secureRequest) } : {};
    } catch (error) {
      if (error instanceof TooManySessionsError) {
        return {
          failure: {
            status: HttpStatus.CONFLICT,
            body: JSON.stringify(TOO_MANY_SESSIONS_BODY),
          },
        };
      }
      if (error instanceof SessionStoreUnavailableError) {
        return {
          failure: {
            status: HttpStatus.SERVICE_UNAVAILABLE,
            body: JSON.stringify({
              statusCode: 503,
              message: 'Session store unavailable, retry later',
            }),
            retryAfter: '1',
          },
        };
      }
      this.logger.error(
        `session commit failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return {
        failure: {
          status: HttpStatus.INTERNAL_SERVER_ERROR,
          body: JSON.stringify({ statusCode: 500, message: 'Internal server error' }),
        },
      };
    }
  }
}
