import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { SessionStoreUnavailableError } from '../errors/session-store-unavailable.error';

/** Redis down or too slow: 503 with `Retry-After`, so clients and load balancers back off. */
@Catch(SessionStoreUnavailableError)
export class SessionUnavailableFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: SessionStoreUnavailableError, host: ArgumentsHost): Error | void {
    // a GraphQL resolver's: the operation's error (\`errors[0]\`), as Nest's GraphQL filters do
    if (host.getType<string>() !== 'http') return error;
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
