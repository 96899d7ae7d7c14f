import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import type { ExpressSessionView } from '../../lib';
import type { User } from './users.service.js';

/**
 * Checks the password (passport-local), then logs in: Passport regenerates the session and
 * stores the user in it. `setUser` adds the session to the user's index, so "log out
 * everywhere" (`destroyAllForUser`) finds it.
 */
@Injectable()
export class LoginGuard extends AuthGuard('local') {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const result = (await super.canActivate(context)) as boolean;
    const request = context.switchToHttp().getRequest<Request>();
    await super.logIn(request);
    (request.session as unknown as ExpressSessionView).setUser((request.user as User).username);
    return result;
  }
}

/** Lets a request through when Passport recognised its session. */
@Injectable()
export class AuthenticatedGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToHttp().getRequest<Request>().isAuthenticated();
  }
}
