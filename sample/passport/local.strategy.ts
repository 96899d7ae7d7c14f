import { Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { UsersService, type User } from './users.service.js';

/** passport-local, as in NestJS's authentication guide. */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy) {
  constructor(private readonly users: UsersService) {
    super();
  }

  validate(username: string, password: string): User {
    const user = this.users.validate(username, password);
    if (!user) {
      throw new UnauthorizedException();
    }
    return user;
  }
}
