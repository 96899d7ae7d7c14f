import { Injectable } from '@nestjs/common';

export interface User {
  username: string;
}

/** A stand-in user directory: the recipe is about sessions, not about storing passwords. */
@Injectable()
export class UsersService {
  private readonly passwords = new Map([
    ['alice', 'alice-password'],
    ['bob', 'bob-password'],
  ]);

  validate(username: string, password: string): User | null {
    return this.passwords.get(username) === password ? { username } : null;
  }
}
