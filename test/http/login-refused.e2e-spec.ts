import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { ClusterSessionModule, Session, type SessionHandle } from '../../lib';
import { RedisServer } from '../../sample/support/redis-server';
import { TEST_SECRET } from '../support/cluster-fixture';
import { HttpClient } from './support/http-client';

interface Data {
  name?: string;
  cart?: string[];
}

/** A login that keeps the session it is made in (no regenerate), committed with the response. */
@Controller()
class SignInController {
  @Post('cart')
  cart(@Session() session: SessionHandle<Data>) {
    session.set('cart', ['book']);
    return { ok: true };
  }

  @Post('sign-in')
  signIn(@Body() body: { name: string }, @Session() session: SessionHandle<Data>) {
    session.set('name', body.name);
    session.setUser(body.name);
    return { ok: true };
  }

  @Get('me')
  me(@Session() session: SessionHandle<Data>) {
    return { ...session.data, user: session.userId };
  }
}

/**
 * A login refused by `maxSessionsPerUser` in the response's commit: a 409, and nothing of it
 * stays, not even in the session it was made in (review of #27: only an explicit save() used
 * to end it, so the browser stayed "signed in" by the app's own data, owner-less and out of
 * the user's index).
 */
describe("a login refused at commit ('refuse', limit 1)", () => {
  let server: RedisServer;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    server = await RedisServer.start();
    @Module({
      imports: [
        ClusterSessionModule.forRoot({
          secret: TEST_SECRET,
          redis: server.url,
          maxSessionsPerUser: { limit: 1, onExceed: 'refuse' },
        }),
      ],
      controllers: [SignInController],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: ['error'] });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
    await server?.dispose();
  });

  it('answers 409, and the session the login was made in is ended', async () => {
    const laptop = new HttpClient(url);
    expect((await laptop.post('/sign-in', { name: 'ann' })).status).toBe(201);

    const phone = new HttpClient(url);
    expect((await phone.post('/cart')).status).toBe(201); // a session of its own first
    const refused = await phone.post('/sign-in', { name: 'ann' });
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({ statusCode: 409, error: 'TooManySessions' });
    // the phone's session is gone: nothing of the refused login, nor of before it
    expect((await phone.get('/me')).json).toEqual({ user: null });
    expect((await laptop.get('/me')).json).toEqual({ name: 'ann', user: 'ann' });
  });
});
