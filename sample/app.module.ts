import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { ClusterSessionModule } from '../lib';
import { HealthController } from './health.controller';
import { NODE_ID } from './sample.constants';
import { SessionController } from './session.controller';

/** main.ts sets NODE_ID (and SESSION_SECRET, REDIS_URL when it generated them) before this starts. */
@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    ClusterSessionModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        secret: config.getOrThrow<string>('SESSION_SECRET'),
        redis: config.get<string>('REDIS_URL') ?? 'redis://127.0.0.1:6379',
        // optional, ms: how often an active session's expiry is refreshed (the tests shorten it)
        touchAfter: Number(config.get<string>('SESSION_TOUCH_AFTER')) || undefined,
        cluster: {
          nodeId: config.getOrThrow<string>('NODE_ID'),
          // optional: 'update' (the default) or 'invalidate' (the benchmarks compare them)
          propagation: config.get<'update' | 'invalidate'>('SESSION_PROPAGATION') || undefined,
        },
      }),
    }),
    TerminusModule,
  ],
  controllers: [SessionController, HealthController],
  providers: [
    {
      provide: NODE_ID,
      useFactory: (config: ConfigService) => config.getOrThrow<string>('NODE_ID'),
      inject: [ConfigService],
    },
  ],
})
export class AppModule {}
