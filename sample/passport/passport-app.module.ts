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
    }),
    PassportModule.register({ session: true }),
  ],
  controllers: [AuthController],
  providers: [UsersService, LocalStrategy, SessionSerializer],
})
export class PassportAppModule {}
