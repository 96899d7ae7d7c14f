import {
  Controller,
  Get,
  Query,
  Res,
  Sse,
  StreamableFile,
  type INestApplication,
} from '@nestjs/common';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { of, type Observable } from 'rxjs';
import { Session, SessionHandle } from '../../lib';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';
import { HttpClient } from './support/http-client';
import { TcpProxy } from '../support/tcp-proxy';
import { TEST_SECRET } from '../support/cluster-fixture';
import { ClusterSessionModule } from '../../lib';
import { createApp, createAppOnNewRedis, type Platform } from './support/test-app';

const FILE_BODY = 'a file, streamed\n';
const dir = mkdtempSync(join(tmpdir(), 'ncs-streaming-'));
const file = join(dir, 'body.txt');
writeFileSync(file, FILE_BODY);

/** `res.headersSent` right after `res.end()`, as each `end-then-throw` request saw it. */
const headersSentAfterEnd: boolean[] = [];

/** What the `callbacks` and `late-write` routes saw of the calls they made. */
const seen = { called: [] as string[], errors: [] as unknown[], returned: [] as unknown[] };

/** Express's response, or Fastify's reply (whose raw response a handler writes after hijacking). */
type AnyResponse = ServerResponse | { raw: ServerResponse; hijack(): void };

function rawOf(response: AnyResponse): ServerResponse {
  if (!('raw' in response)) {
    return response;
  }
  response.hijack();
  return response.raw;
}

async function logIn(session: SessionHandle): Promise<void> {
  await session.regenerate();
  session.set('username', 'ann');
  session.setUser('ann');
}

/** A login answered by every kind of streamed response. */
@Controller('stream')
class StreamingController {
  @Get('write')
  async write(@Session() session: SessionHandle, @Res() response: AnyResponse) {
    await logIn(session);
    const raw = rawOf(response);
    raw.setHeader('Content-Type', 'text/plain');
    raw.write('hello ');
    raw.end('world');
  }

  @Get('pipe')
  async pipe(@Session() session: SessionHandle, @Res() response: AnyResponse) {
    await logIn(session);
    Readable.from(['piped ', 'body']).pipe(rawOf(response));
  }

  @Get('file')
  async file(@Session() session: SessionHandle) {
    await logIn(session);
    return new StreamableFile(createReadStream(file), { type: 'text/plain' });
  }

  @Get('send-file')
  async sendFile(
    @Session() session: SessionHandle,
    @Res() response: { sendFile(path: string): void },
  ) {
    await logIn(session);
    response.sendFile(file);
  }

  @Get('reply-stream')
  async replyStream(
    @Session() session: SessionHandle,
    @Res() reply: { header(name: string, value: string): unknown; send(payload: unknown): unknown },
  ) {
    await logIn(session);
    reply.header('content-type', 'text/plain');
    return reply.send(Readable.from(['replied ', 'stream']));
  }

  @Sse('sse')
  async sse(@Session() session: SessionHandle): Promise<Observable<{ data: string }>> {
    await logIn(session);
    return of({ data: 'one' }, { data: 'two' });
  }

  /** Its own cookie in the headers given to writeHead, which Node puts over the response's. */
  @Get('head-cookie')
  async headCookie(@Session() session: SessionHandle, @Res() response: AnyResponse) {
    await logIn(session);
    const raw = rawOf(response);
    raw.writeHead(200, { 'Content-Type': 'text/plain', 'Set-Cookie': ['theme=dark; Path=/'] });
    raw.end('with a cookie of its own');
  }

  /**
   * Ends the response, then fails: Nest's exception filter sends a 500 unless headers are sent.
   * `?raw` on Fastify: without hijacking, so the filter sends its 500 through the reply as well.
   */
  @Get('end-then-throw')
  async endThenThrow(
    @Session() session: SessionHandle,
    @Res() response: AnyResponse,
    @Query('raw') unhijacked?: string,
  ) {
    await logIn(session);
    const raw = unhijacked !== undefined && 'raw' in response ? response.raw : rawOf(response);
    raw.end('done');
    headersSentAfterEnd.push(raw.headersSent);
    throw new Error('failed after the response was complete');
  }

  @Get('callbacks')
  async callbacks(@Session() session: SessionHandle, @Res() response: AnyResponse) {
    await logIn(session);
    const raw = rawOf(response);
    seen.returned.push(raw.write('a', () => seen.called.push('write')));
    seen.returned.push(raw.end('b', () => seen.called.push('end')) === raw);
  }

  /** Goes on writing once the response has finished: for a failed commit, after its 503. */
  @Get('late-write')
  async lateWrite(@Session() session: SessionHandle, @Res() response: AnyResponse) {
    await logIn(session);
    const raw = rawOf(response);
    raw.on('error', (error) => seen.errors.push(error));
    raw.write('first', () => seen.called.push('first'));
    raw.once('finish', () => {
      seen.returned.push(raw.write('late', () => seen.called.push('late')));
      raw.end(() => seen.called.push('end'));
    });
  }

  @Get('quiet')
  quiet(@Res() response: AnyResponse) {
    const raw = rawOf(response);
    raw.write('no ');
    raw.end('session');
  }
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Chunks of the backpressure route's body produced before the commit was done ('drain'). */
const produced = { total: 0, beforeDrain: -1 };
const CHUNKS = 4_000;

@Controller('big')
class BigBodyController {
  /** A login answered by a large streamed body (64 MB), produced only as fast as it is taken. */
  @Get('pipe')
  async pipe(@Session() session: SessionHandle, @Res() response: ServerResponse) {
    await logIn(session);
    Object.assign(produced, { total: 0, beforeDrain: -1 });
    response.once('drain', () => (produced.beforeDrain = produced.total));
    const chunk = Buffer.alloc(16_384, 'x');
    new Readable({
      read() {
        this.push(produced.total++ < CHUNKS ? chunk : null);
      },
    }).pipe(response);
  }
}

describe('#24 a streamed body while the commit waits for a slow Redis', () => {
  let server: RedisServer;
  let proxy: TcpProxy;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    server = await RedisServer.start();
    proxy = await TcpProxy.start(server.port);
    app = await createApp(
      'express',
      ClusterSessionModule.forRoot({ secret: TEST_SECRET, redis: proxy.url }),
      [BigBodyController],
    );
    url = await app.getUrl();
  });

  afterAll(async () => {
    await app.close();
    await proxy.close();
    await server.dispose();
  });

  it('is held to what one write buffers, not produced into memory (backpressure)', async () => {
    proxy.commandDelayMs = 150; // each Redis command of the commit takes 300 ms
    const response = await fetch(`${url}/big/pipe`);
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([expect.stringMatching(/^sid=/)]);
    expect((await response.arrayBuffer()).byteLength).toBe(CHUNKS * 16_384);
    proxy.commandDelayMs = 0;
    // the pipe waited while the commit ran: a few chunks, not the body
    expect(produced.beforeDrain).toBeGreaterThanOrEqual(0);
    expect(produced.beforeDrain).toBeLessThan(8);
  });
});

describe.each<Platform>(['express', 'fastify'])('#14.5 streamed responses on %s', (platform) => {
  let server: RedisServer;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    ({ server, app, url } = await createAppOnNewRedis(platform, [StreamingController]));
  });

  afterAll(async () => {
    await app.close();
    await server.dispose();
  });

  async function get(path: string) {
    const response = await fetch(url + path);
    return {
      status: response.status,
      headers: response.headers,
      setCookies: response.headers.getSetCookie(),
      text: await response.text(),
    };
  }

  /** A client holding the session cookie the response set, if it set one. */
  function clientWith(setCookies: string[]): HttpClient {
    const client = new HttpClient(url);
    client.cookie = setCookies.find((cookie) => cookie.startsWith('sid='))?.split(';')[0];
    return client;
  }

  type Route = [string, (text: string) => void];
  const routes: Route[] = [
    ['write', (text) => expect(text).toBe('hello world')],
    ['pipe', (text) => expect(text).toBe('piped body')],
    ['file', (text) => expect(text).toBe(FILE_BODY)],
    ['sse', (text) => expect(text).toMatch(/^\n(id: 1\n)?data: one\n\n(id: 2\n)?data: two\n\n$/)],
    ...(platform === 'express'
      ? [['send-file', (text) => expect(text).toBe(FILE_BODY)] satisfies Route]
      : [['reply-stream', (text) => expect(text).toBe('replied stream')] satisfies Route]),
  ];

  it.each(routes)(
    '/stream/%s carries the login cookie, and the session is stored',
    async (route, body) => {
      const response = await get(`/stream/${route}`);
      expect(response.status).toBe(200);
      body(response.text);
      expect(response.setCookies).toEqual([expect.stringMatching(/^sid=[^;]+; Path=\/; HttpOnly/)]);
      expect((await clientWith(response.setCookies).get('/me')).json).toEqual({ username: 'ann' });
    },
  );

  it('keeps a Set-Cookie given to writeHead beside the session cookie', async () => {
    const response = await get('/stream/head-cookie');
    expect(response.status).toBe(200);
    expect(response.text).toBe('with a cookie of its own');
    expect(response.setCookies).toEqual([
      'theme=dark; Path=/',
      expect.stringMatching(/^sid=[^;]+; Path=\/; HttpOnly/),
    ]);
    expect((await clientWith(response.setCookies).get('/me')).json).toEqual({ username: 'ann' });
  });

  it.each(['end-then-throw', 'end-then-throw?raw'])(
    'headersSent is true while the commit is pending: an error after the end leaves the response alone (%s)',
    async (path) => {
      headersSentAfterEnd.length = 0;
      const response = await get(`/stream/${path}`);
      expect({ status: response.status, text: response.text }).toEqual({
        status: 200,
        text: 'done',
      });
      expect(headersSentAfterEnd).toEqual([true]);
      expect(response.setCookies).toEqual([expect.stringMatching(/^sid=/)]);
      expect((await clientWith(response.setCookies).get('/me')).json).toEqual({ username: 'ann' });
    },
  );

  it("a held write returns false (its writer waits for 'drain', which follows), a held end the response, and their callbacks are called", async () => {
    Object.assign(seen, { called: [], errors: [], returned: [] });
    const response = await get('/stream/callbacks');
    expect(response.status).toBe(200);
    expect(response.text).toBe('ab');
    expect(response.setCookies).toEqual([expect.stringMatching(/^sid=/)]);
    expect(seen.returned).toEqual([false, true]);
    await waitFor(() => seen.called.length === 2, { what: 'the write and end callbacks' });
    expect(seen.called).toEqual(['write', 'end']);
  });

  it('a streamed response without a session change goes out untouched', async () => {
    const response = await get('/stream/quiet');
    expect(response.status).toBe(200);
    expect(response.text).toBe('no session');
    expect(response.setCookies).toEqual([]);
  });

  it('a failed commit answers 503 with Retry-After instead of the streamed 200; then back', async () => {
    await server.stop();
    try {
      for (const [route] of routes) {
        const response = await get(`/stream/${route}`);
        expect({ route, status: response.status }).toEqual({ route, status: 503 });
        expect(response.headers.get('retry-after')).toBe('1');
        expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(JSON.parse(response.text)).toEqual({
          statusCode: 503,
          message: 'Session store unavailable, retry later',
        });
        expect(response.setCookies).toEqual([]);
      }
      // what the handler writes after the failure was answered is dropped, without an error
      Object.assign(seen, { called: [], errors: [], returned: [] });
      expect((await get('/stream/late-write')).status).toBe(503);
      await waitFor(() => seen.called.length === 3, { what: 'the dropped calls to call back' });
      expect(seen.called.sort()).toEqual(['end', 'first', 'late']);
      expect(seen.returned).toEqual([true]);
      expect(seen.errors).toEqual([]);
    } finally {
      await server.restart();
    }
    await waitFor(async () => (await get('/health')).status === 200, {
      timeoutMs: 10_000,
      what: 'health to recover',
    });
    const response = await get('/stream/pipe');
    expect(response.status).toBe(200);
    expect((await clientWith(response.setCookies).get('/me')).json).toEqual({ username: 'ann' });
  });
});
