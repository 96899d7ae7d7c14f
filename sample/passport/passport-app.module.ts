import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { ClusterSessionModule } from '../../lib';
import { AuthController } from './auth.controller';
import { LocalStrategy } from './local.strategy';
import { SessionSerializer } from './session.serializer';
import { UsersService } from './users.service';

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
