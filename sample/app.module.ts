import { Module } from '@nestjs/common';
import type { RedisOptions } from 'ioredis';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { ClusterSessionModule } from '../lib';
import { AccountController } from './account.controller';
import { HealthController } from './health.controller';
import { NODE_ID } from './sample.constants';
import { SessionController } from './session.controller';

/** The Redis URL as it is, or as options with a command timeout of its own. */
function redisOption(url: string, commandTimeout?: number): string | RedisOptions {
  if (commandTimeout === undefined) {
    return url;
  }
  const { hostname, port, username, password, pathname, protocol } = new URL(url);
  return {
    host: hostname,
    port: Number(port) || 6379,
    username: decodeURIComponent(username) || undefined,
    password: decodeURIComponent(password) || undefined,
    db: Number(pathname.slice(1)) || 0,
    ...(protocol === 'rediss:' ? { tls: {} } : {}),
    commandTimeout,
  };
}

/** main.ts sets NODE_ID (and SESSION_SECRET, REDIS_URL when it generated them) before this starts. */
@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    ClusterSessionModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        // comma-separated: several, the first signs (a rotation in progress)
        secret: config.getOrThrow<string>('SESSION_SECRET').split(','),
        redis: redisOption(
          config.get<string>('REDIS_URL') ?? 'redis://127.0.0.1:6379',
          // optional, ms: how long a Redis command may take (the fault tests shorten it)
          Number(config.get<string>('REDIS_COMMAND_TIMEOUT')) || undefined,
        ),
        // optional, ms: the idle timeout, and how often an active session's expiry is refreshed
        ttl: Number(config.get<string>('SESSION_TTL')) || undefined,
        touchAfter: Number(config.get<string>('SESSION_TOUCH_AFTER')) || undefined,
        // optional: '1' takes over express-session + connect-redis sessions (README, "Migrating")
        migrateFrom: config.get<string>('SESSION_MIGRATE_FROM') === '1' ? {} : undefined,
        // the account page (/account) lists each device by its browser
        describeClient: (request) => ({
          userAgent: String(request.headers['user-agent'] ?? 'unknown').slice(0, 200),
        }),
        // optional: at most this many sessions per user, and what a login past it does
        // ('end-oldest', the default here, or 'refuse')
        maxSessionsPerUser: Number(config.get<string>('SESSIONS_PER_USER'))
          ? {
              limit: Number(config.get<string>('SESSIONS_PER_USER')),
              onExceed: config.get<'end-oldest' | 'refuse'>('SESSIONS_ON_EXCEED') ?? 'end-oldest',
            }
          : undefined,
        cluster: {
          nodeId: config.getOrThrow<string>('NODE_ID'),
          // optional: 'update' (the default) or 'invalidate' (the benchmarks compare them)
          propagation: config.get<'update' | 'invalidate'>('SESSION_PROPAGATION') || undefined,
        },
      }),
    }),
    TerminusModule,
  ],
  controllers: [SessionController, AccountController, HealthController],
  providers: [
    {
      provide: NODE_ID,
      useFactory: (config: ConfigService) => config.getOrThrow<string>('NODE_ID'),
      inject: [ConfigService],
    },
  ],
})
export class AppModule {}
