import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { throwError } from 'rxjs';
import { SessionStoreUnavailableError } from '../errors/session-store-unavailable.error';

/** Redis down or too slow: 503 with `Retry-After`, so clients and load balancers back off. */
@Catch(SessionStoreUnavailableError)
export class SessionUnavailableFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: SessionStoreUnavailableError, host: ArgumentsHost): unknown {
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
