import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { ClusterSessionModule } from '../../lib';
import { AuthController } from './auth.controller.js';
import { LocalStrategy } from './local.strategy.js';
import { SessionSerializer } from './session.serializer.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [
    ClusterSessionModule.forRoot({
      secret: process.env.SESSION_SECRET!,
      redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      // at most 5 sessions per user (or SESSIONS_PER_USER): a sixth login ends the least
      // recently active one, or with SESSIONS_ON_EXCEED=refuse is refused (409)
      maxSessionsPerUser: {
        limit: Number(process.env.SESSIONS_PER_USER) || 5,
        onExceed: process.env.SESSIONS_ON_EXCEED === 'refuse' ? 'refuse' : 'end-oldest',
      },
      // what sessionsForUser lists about each device
      describeClient: (request) => ({
        userAgent: String(request.headers['user-agent'] ?? 'unknown').slice(0, 200),
      }),
    }),
    PassportModule.register({ session: true }),
  ],
  controllers: [AuthController],
  providers: [UsersService, LocalStrategy, SessionSerializer],
})
export class PassportAppModule {}
