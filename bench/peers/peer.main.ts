/**
 * The benchmark's peers: a NestJS app serving the sample's routes with express-session +
 * connect-redis (STACK=express-session, configured as their READMEs recommend), or with no
 * sessions at all (STACK=none, the HTTP ceiling), or with this module (STACK=cluster-session: the
 * same routes, on `req.session` unchanged). Environment: PORT, REDIS_URL, SESSION_SECRET,
 * MIGRATE_FROM (cluster-session: take over express-session's sessions).
 */
import 'reflect-metadata';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Module,
  Post,
  Req,
  UnauthorizedException,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RedisStore } from 'connect-redis';
import session from 'express-session';
import { ClusterSessionModule, Session, SessionHandle } from '../../lib';
import { createClient } from 'redis';

const stack = process.env.STACK ?? 'express-session';

interface PeerSession {
  username?: string;
  visits?: number;
  regenerate(callback: (error?: unknown) => void): void;
}

type PeerRequest = { session: PeerSession };

@Controller()
class PeerController {
  @Post('login')
  @HttpCode(200)
  async login(@Req() req: PeerRequest, @Body() body: { username: string }) {
    if (stack === 'none') {
      return { username: body.username };
    }
    await new Promise<void>((resolve, reject) =>
      req.session.regenerate((error) => (error ? reject(error) : resolve())),
    );
    req.session.username = body.username;
    return { username: body.username };
  }

  @Get('me')
  me(@Req() req: PeerRequest) {
    if (stack === 'none') {
      return { username: 'static', visits: 0, node: 'none' };
    }
    if (!req.session.username) {
      throw new UnauthorizedException();
    }
    return {
      username: req.session.username,
      visits: req.session.visits ?? 0,
      node: 'express-session',
    };
  }

  @Post('visit')
  @HttpCode(200)
  visit(@Req() req: PeerRequest) {
    if (stack === 'none') {
      return { visits: 1 };
    }
    req.session.visits = (req.session.visits ?? 0) + 1;
    return { visits: req.session.visits };
  }
}

@Controller('m')
class ModuleController {
  @Get('plain')
  plain() {
    return { username: 'static', visits: 0, node: 'plain' };
  }

  @Post('login')
  @HttpCode(200)
  async login(
    @Body() body: { username: string },
    @Session() session: SessionHandle<{ username?: string }>,
  ) {
    await session.regenerate();
    session.set('username', body.username);
    return { username: body.username };
  }

  @Get('me')
  me(@Session() session: SessionHandle<{ username?: string; visits?: number }>) {
    if (session.isNew) {
      throw new UnauthorizedException();
    }
    return {
      username: session.get('username'),
      visits: session.get('visits') ?? 0,
      node: 'module',
    };
  }
}

@Module({
  imports:
    stack === 'cluster-session'
      ? [
          ClusterSessionModule.forRoot({
            secret: process.env.SESSION_SECRET ?? '',
            redis: process.env.REDIS_URL,
            // MIGRATE_FROM=1: take over express-session + connect-redis sessions (tests)
            ...(process.env.MIGRATE_FROM ? { migrateFrom: {} } : {}),
          }),
        ]
      : [],
  controllers: [PeerController, ModuleController],
})
class PeerModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(PeerModule, { logger: ['error', 'warn'] });
  if (stack === 'express-session') {
    const redisClient = createClient({ url: process.env.REDIS_URL });
    await redisClient.connect();
    app.use(
      session({
        store: new RedisStore({ client: redisClient }),
        resave: false, // as connect-redis recommends: a lightweight touch instead of a full write
        saveUninitialized: false,
        secret: process.env.SESSION_SECRET ?? 'peer-secret-of-at-least-32-characters',
      }),
    );
  }
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  console.log(`[peer] ${stack} listening`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
