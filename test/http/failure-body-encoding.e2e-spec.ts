import { Controller, Get, Res } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { ClusterSessionModule, Session, type SessionHandle } from '../../lib';
import { TEST_SECRET } from '../support/cluster-fixture';
import { RedisServer } from '../../sample/support/redis-server';
import { createApp } from '../http/support/test-app';

@Controller()
class GzController {
  /** Serves a pre-compressed body (as a static-file or proxy route does) and changes the session. */
  @Get('gz')
  gz(@Session() session: SessionHandle, @Res() res: ServerResponse): void {
    session.set('seen', true);
    res.setHeader('Content-Type', 'text/plain');
    res.setHeader('Content-Encoding', 'gzip');
    res.end(gzipSync('hello'));
  }
}

/**
 * README: if the commit fails "the response is a 503 instead, never a half-sent one".
 * Input: a handler that set Content-Encoding: gzip; Redis is down, so the commit fails. The 503
 * that replaces the body keeps the handler's Content-Encoding (BODY_HEADERS omits it), so its
 * plain JSON body is announced as gzip: clients fail to decode it instead of seeing a 503.
 */
describe('#14 review: the failure response replacing a compressed body', () => {
  let server: RedisServer;
  let app: INestApplication;
  let port: number;

  beforeAll(async () => {
    server = await RedisServer.start();
    app = await createApp(
      'express',
      ClusterSessionModule.forRoot({ secret: TEST_SECRET, redis: server.url }),
      [GzController],
    );
    port = Number(new URL(await app.getUrl()).port);
  });

  afterAll(async () => {
    await app.close();
    await server.dispose();
  });

  it('the 503 does not carry the content encoding of the body it replaced', async () => {
    await server.stop();
    try {
      const reply = await new Promise<{ status: number; encoding?: string; body: string }>(
        (resolve, reject) => {
          httpRequest({ host: '127.0.0.1', port, path: '/gz' }, (res) => {
            let body = '';
            res.setEncoding('latin1');
            res.on('data', (c: string) => (body += c));
            res.on('end', () =>
              resolve({
                status: res.statusCode!,
                encoding: res.headers['content-encoding'],
                body,
              }),
            );
          })
            .on('error', reject)
            .end();
        },
      );
      expect(reply.status).toBe(503);
      expect(reply.body).toMatch(/Session store unavailable/); // plain JSON ...
      expect(reply.encoding).toBeUndefined(); // ... FAILS: announced as gzip
    } finally {
      await server.restart();
    }
  }, 20_000);
});
