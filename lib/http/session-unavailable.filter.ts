import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { throwError } from 'rxjs';
import { SessionStoreUnavailableError } from '../errors/session-store-unavailable.error';
import { TooManySessionsError } from '../errors/too-many-sessions.error';

/** The answer to a login refused by `maxSessionsPerUser` (a handler's or the commit's). */
export const TOO_MANY_SESSIONS_BODY = {
  statusCode: HttpStatus.CONFLICT,
  error: 'TooManySessions',
  message: 'Too many sessions: sign out on another device first',
};

/**
 * Redis down or too slow: 503 with `Retry-After`, so clients and load balancers back off. A
 * login refused by `maxSessionsPerUser`: 409.
 */
@Catch(SessionStoreUnavailableError, TooManySessionsError)
export class SessionUnavailableFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: SessionStoreUnavailableError | TooManySessionsError, host: ArgumentsHost): unknown {
    const type = host.getType<string>();
    // a GraphQL resolver's: the operation's error (\`errors[0]\`), as Nest's GraphQL filters do
    if (type === 'graphql') {
      return error;
    }
    // a microservice handler's: an error reply (a returned value would be sent as a success)
    if (type !== 'http') {
      return throwError(() => error);
    }
    const { httpAdapter } = this.adapterHost;
    const response = host.switchToHttp().getResponse<unknown>();
    if (error instanceof TooManySessionsError) {
      httpAdapter.reply(response, TOO_MANY_SESSIONS_BODY, HttpStatus.CONFLICT);
      return;
    }
    httpAdapter.setHeader(response, 'Retry-After', '1');
    httpAdapter.reply(
      response,
      {
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        message: 'Session store unavailable, retry later',
      },
      HttpStatus.SERVICE_UNAVAILABLE,
    );
  }
}
