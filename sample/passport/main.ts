/**
 * The README's "Using Passport" recipe as a runnable app: NestJS's session-login setup
 * (@nestjs/passport, passport-local, a PassportSerializer, `passport.session()` in main.ts) with
 * ClusterSessionModule in place of express-session, plus connect-flash and csrf-sync.
 * `SESSION_SECRET=... REDIS_URL=... PORT=3001 node dist/sample/passport/main.js`
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import flash from 'connect-flash';
import passport from 'passport';
import { csrf } from './csrf.js';
import { PassportAppModule } from './passport-app.module.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(PassportAppModule);
  // no app.use(session(...)): ClusterSessionModule provides req.session
  app.use(passport.initialize());
  app.use(passport.session());
  app.use(flash());
  app.use('/transfer', csrf.csrfSynchronisedProtection);
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  console.log(`listening on ${await app.getUrl()}`);
}

void bootstrap();
