import { Controller, Get, Post, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { InjectSessionStore, SessionStore } from '../../lib';
import { csrf } from './csrf.js';
import { AuthenticatedGuard, LoginGuard } from './auth.guards.js';
import type { User } from './users.service.js';

@Controller()
export class AuthController {
  constructor(@InjectSessionStore() private readonly sessions: SessionStore) {}

  @UseGuards(LoginGuard)
  @Post('login')
  login(@Req() request: Request) {
    return request.user;
  }

  @UseGuards(AuthenticatedGuard)
  @Get('profile')
  profile(@Req() request: Request) {
    return { user: request.user, sessionID: request.sessionID };
  }

  /** Passport regenerates the session: the signed-in one is destroyed on every node. */
  @Post('logout')
  async logout(@Req() request: Request) {
    await new Promise<void>((resolve, reject) =>
      request.logout((error) => (error ? reject(error) : resolve())),
    );
    return { ok: true };
  }

  @UseGuards(AuthenticatedGuard)
  @Post('logout-all')
  async logoutAll(@Req() request: Request) {
    return { destroyed: await this.sessions.destroyAllForUser((request.user as User).username) };
  }

  /** connect-flash: a message set here is read once, on whichever node the next request reaches. */
  @Post('flash')
  setFlash(@Req() request: Request) {
    request.flash('info', 'saved');
    return { ok: true };
  }

  @Get('flash')
  getFlash(@Req() request: Request) {
    return { info: request.flash('info') };
  }

  /** csrf-sync: the token lives in the session; POST /transfer checks it (see main.ts). */
  @Get('csrf-token')
  csrfToken(@Req() request: Request) {
    return { token: csrf.generateToken(request) };
  }

  @Post('transfer')
  transfer() {
    return { ok: true };
  }
}
