import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Patch,
  Post,
  UnauthorizedException,
} from '@nestjs/common';
import { InjectSessionStore, Session, SessionHandle, SessionStore } from '../lib';
import { NODE_ID } from './sample.constants';

interface SampleSession {
  username?: string;
  visits?: number;
  [key: string]: unknown;
}

/** The sample's HTTP contract (README, "npm start"): login, me, visit, logout, logout-all. */
@Controller()
export class SessionController {
  constructor(
    @Inject(NODE_ID) private readonly nodeId: string,
    @InjectSessionStore() private readonly store: SessionStore,
  ) {}

  @Post('login')
  @HttpCode(200)
  async login(
    @Body() body: { username?: unknown },
    @Session() session: SessionHandle<SampleSession>,
  ) {
    const { username } = body ?? {};
    if (typeof username !== 'string' || username.length === 0 || username.length > 128) {
      throw new BadRequestException('username must be a string of 1 to 128 characters');
    }
    // a new id on login, against session fixation; another user's data does not carry over
    const previous = session.get('username');
    await session.regenerate({ fresh: previous !== undefined && previous !== username });
    session.set('username', username);
    session.setUser(username);
    return { username };
  }

  @Get('me')
  me(@Session() session: SessionHandle<SampleSession>) {
    if (session.isNew) {
      throw new UnauthorizedException('no session');
    }
    return {
      ...session.data,
      username: session.get('username'),
      visits: session.get('visits') ?? 0,
      node: this.nodeId,
    };
  }

  @Post('visit')
  @HttpCode(200)
  visit(@Session() session: SessionHandle<SampleSession>) {
    const visits = (session.get('visits') ?? 0) + 1;
    session.set('visits', visits);
    return { visits };
  }

  @Patch('me')
  update(@Body() body: unknown, @Session() session: SessionHandle<SampleSession>) {
    if (session.isNew) {
      throw new UnauthorizedException('no session');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new BadRequestException('the body must be a JSON object of top-level keys');
    }
    for (const [key, value] of Object.entries(body)) {
      if (key === '__proto__') {
        throw new BadRequestException('"__proto__" is not a session key');
      }
      session.set(key, value);
    }
    return { ...session.data };
  }

  @Post('logout')
  @HttpCode(200)
  async logout(@Session() session: SessionHandle<SampleSession>) {
    if (!session.isNew) {
      await session.destroy();
    }
    return { ok: true };
  }

  @Post('logout-all')
  @HttpCode(200)
  async logoutAll(@Session() session: SessionHandle<SampleSession>) {
    if (session.isNew || !session.userId) {
      throw new UnauthorizedException('no session');
    }
    return { destroyed: await this.store.destroyAllForUser(session.userId) };
  }
}
