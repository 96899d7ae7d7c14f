import { Injectable } from '@nestjs/common';
import { PassportSerializer } from '@nestjs/passport';
import type { User } from './users.service.js';

/** What Passport keeps in the session (`req.session.passport.user`): the username. */
@Injectable()
export class SessionSerializer extends PassportSerializer {
  serializeUser(user: User, done: (error: Error | null, id?: string) => void): void {
    done(null, user.username);
  }

  deserializeUser(username: string, done: (error: Error | null, user?: User) => void): void {
    done(null, { username });
  }
}
