import { Controller, Get, Req, type INestApplication } from '@nestjs/common';
import type { RedisServer } from '../../sample/support/redis-server';
import { HttpClient } from './support/http-client';
import { createAppOnNewRedis, type Platform } from './support/test-app';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** What each attribute is set to: not what the module's options give it. */
const VALUES: Record<string, unknown> = {
  secure: true,
  domain: 'example.com',
  path: '/other',
  sameSite: 'strict',
  httpOnly: false,
};

/** Sets a cookie attribute per request, as express-session code may. */
@Controller('cookie')
class CookieAttributeController {
  @Get('set')
  set(@Req() req: any) {
    const attribute = String(req.query.attribute);
    try {
      req.session.cookie[attribute] = VALUES[attribute];
      return { applied: true };
    } catch (error) {
      return { refused: (error as Error).message, reads: req.session.cookie[attribute] };
    }
  }
}

describe.each<Platform>(['express', 'fastify'])('#25 cookie options on %s', (platform) => {
  let server: RedisServer;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    ({ server, app, url } = await createAppOnNewRedis(platform, [CookieAttributeController]));
  });

  afterAll(async () => {
    await app.close();
    await server.dispose();
  });

  it('a valid session cookie in a Cookie header longer than 8 KB is read (Node accepts up to 16 KB)', async () => {
    const client = new HttpClient(url);
    expect((await client.post('/login', { username: 'ann' })).status).toBe(201);
    const padding = Array.from({ length: 60 }, (_, i) => `pad${i}=${'x'.repeat(150)}`).join('; ');
    const header = `${padding}; ${client.cookie}`;
    expect(header.length).toBeGreaterThan(8_192);
    const me = await client.get('/me', { cookie: header });
    expect(me.json).toMatchObject({ username: 'ann' });
  });

  it.each(['secure', 'domain', 'path', 'sameSite', 'httpOnly'])(
    'req.session.cookie.%s set per request is refused with an error naming the option, not silently ignored',
    async (attribute) => {
      const client = new HttpClient(url);
      expect((await client.post('/login', { username: 'bob' })).status).toBe(201);
      const response = await client.get(`/cookie/set?attribute=${attribute}`);
      expect(response.json.applied).toBeUndefined();
      expect(response.json.refused).toContain(`module's options (cookie.${attribute})`);
      expect(response.json.reads).not.toBe(VALUES[attribute]);
    },
  );
});
