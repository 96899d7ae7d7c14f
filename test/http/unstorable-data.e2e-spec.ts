import { Controller, Post, type INestApplication } from '@nestjs/common';
import { Session, type SessionHandle } from '../../lib';
import type { RedisServer } from '../../sample/support/redis-server';
import { HttpClient } from './support/http-client';
import { createAppOnNewRedis, type Platform } from './support/test-app';

/** A value JSON cannot hold: the session cannot be stored with it. */
const UNSTORABLE = 10n as unknown as string;

@Controller('unstorable')
class UnstorableController {
  @Post('set')
  set(@Session() session: SessionHandle<{ n?: string }>) {
    session.set('n', UNSTORABLE);
    return { ok: true };
  }

  /** A logout after the data went bad: nothing is stored, so nothing needs to be serialized. */
  @Post('set-then-logout')
  async setThenLogout(@Session() session: SessionHandle<{ n?: string }>) {
    session.set('n', UNSTORABLE);
    await session.destroy();
    return { ok: true };
  }
}

/** The response, or a failure naming the route if none comes within `ms` (a hung commit). */
function within<T>(ms: number, what: string, response: Promise<T>): Promise<T> {
  return Promise.race([
    response,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: no response within ${ms} ms`)), ms).unref(),
    ),
  ]);
}

describe.each<Platform>(['express', 'fastify'])(
  '#19 review: session data that cannot be stored, on %s',
  (platform) => {
    let server: RedisServer;
    let app: INestApplication;
    let url: string;

    beforeAll(async () => {
      ({ server, app, url } = await createAppOnNewRedis(platform, [UnstorableController]));
    });

    afterAll(async () => {
      await app.close();
      await server.dispose();
    });

    async function signedIn(): Promise<HttpClient> {
      const client = new HttpClient(url);
      await client.post('/login', { username: 'ann' });
      return client;
    }

    it('a change that cannot be stored answers 500, stores nothing, and the process goes on', async () => {
      const client = await signedIn();
      const response = await within(3_000, 'POST /unstorable/set', client.post('/unstorable/set'));
      expect(response.status).toBe(500);
      expect((await client.get('/me')).json).toEqual({ username: 'ann' });
      expect((await new HttpClient(url).get('/ping')).status).toBe(200);
    });

    it('a logout after such a change still logs out (nothing to store, nothing to serialize)', async () => {
      const client = await signedIn();
      const response = await within(
        3_000,
        'POST /unstorable/set-then-logout',
        client.post('/unstorable/set-then-logout'),
      );
      expect(response.status).toBe(201);
      expect(client.cookie).toBeUndefined(); // cleared
      expect((await client.get('/me')).status).toBe(401);
    });
  },
);
