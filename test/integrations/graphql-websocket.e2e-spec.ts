import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { sessionKey } from '../../lib/store/session-keys';
import { HttpClient } from '../http/support/http-client';
import { RedisServer } from '../../sample/support/redis-server';
import { distScript, SampleProcess } from '../../sample/support/sample-process';
import { waitFor } from '../../sample/support/wait-for';

const SECRET = 'graphql-ws-secret-of-at-least-32-characters';
const NESTJS_MAJOR = Number(
  JSON.parse(
    readFileSync(
      join(__dirname, '..', '..', 'node_modules', '@nestjs', 'core', 'package.json'),
      'utf8',
    ),
  ).version.split('.')[0],
);

/**
 * #18: the session in GraphQL resolvers (@nestjs/graphql, Apollo on Express) and socket.io
 * gateways, across two node processes on one Redis (`test/support/apps/graphql-ws.main.ts`).
 */
describe('GraphQL resolvers and WebSocket gateways share the session across nodes', () => {
  let redis: RedisServer;
  let a: SampleProcess;
  let b: SampleProcess;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    [a, b] = await Promise.all(
      ['a', 'b'].map((node) =>
        SampleProcess.start(
          { REDIS_URL: redis.url, SESSION_SECRET: SECRET, NODE_ID: node },
          {
            ready: 'listening',
            script: distScript('test', 'support', 'apps', 'graphql-ws.main.js'),
          },
        ),
      ),
    );
  }, 60_000);

  afterEach(() => sockets.splice(0).forEach((socket) => socket.disconnect()));

  afterAll(async () => {
    await Promise.all([a, b].filter(Boolean).map((node) => node.stop()));
    await redis?.dispose();
  });

  /** The sessions in `user`'s index that are live and theirs (what listForUser answers). */
  async function liveSessionsOf(user: string): Promise<string[]> {
    const client = redis.client();
    try {
      const indexed = await client.zrange(`sess:user:{${user}}`, '0', '-1');
      const owners = await Promise.all(
        indexed.map((id) => client.hget(sessionKey('sess:', id), 'user')),
      );
      return indexed.filter((_, k) => owners[k] === user);
    } finally {
      client.disconnect();
    }
  }

  async function graphql(client: HttpClient, query: string) {
    const response = await client.post('/graphql', { query });
    expect(response.status).toBe(200);
    expect(response.json.errors).toBeUndefined();
    return response.json.data as Record<string, unknown>;
  }

  /** A socket.io connection whose handshake carries `cookie`, and its answer to `event`. */
  async function ask(url: string, cookie: string | undefined, event: string) {
    const socket = io(url, {
      transports: ['websocket'],
      extraHeaders: cookie ? { cookie } : {},
      reconnection: false,
    });
    sockets.push(socket);
    // a handler that throws answers with Nest's 'exception' event instead of an acknowledgement
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      socket.once('exception', (error: unknown) => reject(new Error(JSON.stringify(error))));
      socket.timeout(5_000).emitWithAck(event).then(resolve, reject);
    });
  }

  it('a resolver reads and changes the session; a controller on the other node sees the change', async () => {
    const client = new HttpClient(a.url);
    expect((await client.post('/login', { username: 'ada' })).status).toBe(201);
    expect(await graphql(client, '{ me }')).toEqual({ me: 'ada' });
    // the mutation's change is committed with the GraphQL response
    expect(await graphql(client, 'mutation { addToCart(item: "book") }')).toEqual({
      addToCart: ['book'],
    });
    const onB = new HttpClient(b.url);
    onB.cookie = client.cookie;
    expect((await onB.get('/cart')).json).toEqual({ cart: ['book'] });
    // and a resolver on B sees it, then adds to it, seen back on A
    expect(await graphql(onB, '{ cart }')).toEqual({ cart: ['book'] });
    await graphql(onB, 'mutation { addToCart(item: "pen") }');
    client.cookie = onB.cookie;
    expect((await client.get('/cart')).json).toEqual({ cart: ['book', 'pen'] });
  });

  it('a resolver without a session sees a new, empty one, and sets no cookie unless it writes', async () => {
    const anonymous = new HttpClient(b.url);
    expect(await graphql(anonymous, '{ me cart }')).toEqual({ me: null, cart: [] });
    expect(anonymous.cookie).toBeUndefined();
  });

  it('a gateway reads the session of its handshake cookie, read-only, and sees none after a logout on the other node', async () => {
    const client = new HttpClient(a.url);
    await client.post('/login', { username: 'grace' });
    const cookie = client.cookie!;
    expect(await ask(b.url, cookie, 'whoami')).toEqual({ username: 'grace', node: 'b' });
    expect(await ask(b.url, undefined, 'whoami')).toEqual({ username: null, node: 'b' });
    // read-only: a change over the socket fails, and nothing changes
    await expect(ask(b.url, cookie, 'rename')).rejects.toThrow(/error/);
    await graphql(client, 'mutation { addToCart(item: "book") }');
    expect(await ask(b.url, client.cookie, 'tamper')).toEqual({
      nested: 'refused',
      data: 'refused',
      cookie: 'refused',
      reload: 'refused',
      move: 'refused',
      reachable: [], // #26: an allow-list, not the handle behind a proxy
    });
    expect(await graphql(client, '{ me cart }')).toEqual({ me: 'grace', cart: ['book'] });
    // the session travels with the message without disturbing what Nest tells other decorators
    // (the pattern is the last argument), and shows nothing of itself when the arguments are logged
    expect(await ask(b.url, client.cookie, 'context')).toEqual({
      username: 'grace',
      pattern: 'context',
      args: expect.not.stringMatching(/grace|book/),
    });
    // nothing of a message's session stays on the socket for later handlers
    expect(await ask(b.url, client.cookie, 'leftover')).toEqual({ session: null });
    expect(await ask(a.url, cookie, 'whoami')).toMatchObject({ username: 'grace' });

    expect((await client.post('/logout')).status).toBe(201);
    // the next handshake with the old cookie: no session, on either node
    await waitFor(async () => (await ask(b.url, cookie, 'whoami')).username === null, {
      timeoutMs: 2_000,
      what: 'node b to see the logout made on a',
    });
    expect(await ask(a.url, cookie, 'whoami')).toEqual({ username: null, node: 'a' });
  });
  it('#18 review: two logins at once in one GraphQL request (parallel fields) both happen, in turn', async () => {
    const client = new HttpClient(a.url);
    await client.post('/login', { username: 'first' });
    const before = client.cookie;
    expect(
      await graphql(client, '{ x1: loginAs(username: "x1") x2: loginAs(username: "x2") }'),
    ).toEqual({
      x1: 'x1',
      x2: 'x2',
    });
    expect(client.cookie).not.toBe(before);
    const onB = new HttpClient(b.url);
    onB.cookie = client.cookie;
    expect(await graphql(onB, '{ me }')).toEqual({ me: 'x2' });
    onB.cookie = before;
    expect(await graphql(onB, '{ me }')).toEqual({ me: null }); // the session logged in from is gone
    // the second moves what the first moved: the cookie names the last id, which exists
    const ids = await graphql(client, '{ a: regenerated b: regenerated }');
    onB.cookie = client.cookie;
    expect(await graphql(onB, '{ sessionId me }')).toEqual({ sessionId: ids.b, me: 'x2' });
  });

  it('#26: a login and a save in parallel fields of one query both take effect, and the new cookie is sent', async () => {
    for (let i = 0; i < 25; i++) {
      const client = new HttpClient(a.url);
      await client.post('/login', { username: `before-${i}` });
      const before = client.sessionId;
      const response = await client.post('/graphql', {
        query: `{ a: loginAs(username: "after-${i}") b: remember(what: "r${i}", pause: ${i % 3}) }`,
      });
      expect(response.json).toEqual({ data: { a: `after-${i}`, b: `r${i}` } });
      expect(response.setCookies).toHaveLength(1);
      expect(client.sessionId).not.toBe(before);
      const onB = new HttpClient(b.url);
      onB.cookie = client.cookie;
      expect(await graphql(onB, '{ me remembered }')).toEqual({
        me: `after-${i}`,
        remembered: `r${i}`,
      });
      // nothing orphaned: the user's live sessions (an index entry whose session it owns; the
      // index is pruned lazily) are the one the cookie names, and nothing is left to the other
      expect(await liveSessionsOf(`after-${i}`)).toEqual([client.sessionId]);
      expect(await liveSessionsOf(`before-${i}`)).toEqual([]);
    }
  });

  it('#26: Apollo batched operations (one HTTP request) share the session: a login and a save both take effect', async () => {
    for (let i = 0; i < 12; i++) {
      const client = new HttpClient(a.url);
      await client.post('/login', { username: `batch-before-${i}` });
      const response = await client.post('/graphql', [
        { query: `{ loginAs(username: "batch-after-${i}") }` },
        { query: `{ remember(what: "batched-${i}", pause: ${i % 3}) }` },
        { query: `mutation { addToCart(item: "batched-${i}") }` },
      ]);
      expect(response.json).toEqual([
        { data: { loginAs: `batch-after-${i}` } },
        { data: { remember: `batched-${i}` } },
        { data: { addToCart: [`batched-${i}`] } },
      ]);
      expect(response.setCookies).toHaveLength(1);
      const onB = new HttpClient(b.url);
      onB.cookie = client.cookie;
      expect(await graphql(onB, '{ me remembered cart }')).toEqual({
        me: `batch-after-${i}`,
        remembered: `batched-${i}`,
        cart: [`batched-${i}`],
      });
    }
  });

  it("#26: a gateway handler without SessionLoadGuard never gets another message's session: an error naming the guard (NestJS 11), or its own message's (12 runs global guards for gateways)", async () => {
    const client = new HttpClient(a.url);
    await client.post('/login', { username: 'unguarded' });
    const socket = io(b.url, {
      transports: ['websocket'],
      extraHeaders: { cookie: client.cookie! },
      reconnection: false,
    });
    sockets.push(socket);
    const emit = (event: string) =>
      new Promise<unknown>((resolve) => {
        socket.once('exception', (error: unknown) => resolve({ exception: error }));
        socket
          .timeout(5_000)
          .emitWithAck(event, {})
          .then(resolve, (error: Error) => resolve({ timeout: error.message }));
      });
    // a guarded message first: its session must not be handed to the unguarded handler later
    expect(await emit('whoami')).toMatchObject({ username: 'unguarded' });
    await client.post('/logout');
    await waitFor(
      async () => ((await emit('whoami')) as { username?: unknown }).username === null,
      {
        what: 'node b to see the logout',
      },
    );
    const answer = await emit('whoami-unguarded');
    if (NESTJS_MAJOR >= 12) {
      expect(answer).toEqual({ username: null }); // read for this message: logged out
    } else {
      expect(answer).toMatchObject({
        exception: { status: 'error', message: 'Internal server error' },
      });
      await waitFor(() => b.output.includes('add @UseGuards(SessionLoadGuard)'), {
        what: "node b's log to name the guard",
      });
    }
  });

  it('Redis down: a resolver that needs the session answers a GraphQL error saying so; back when Redis is', async () => {
    const client = new HttpClient(b.url);
    await client.post('/login', { username: 'outage' });
    // read on the node that has no copy: one that has may serve it until it notices the outage (G8)
    const onA = new HttpClient(a.url);
    onA.cookie = client.cookie;
    await redis.stop();
    try {
      const response = await onA.post('/graphql', { query: '{ me }' });
      expect(response.json.errors?.[0]?.message).toMatch(/session store unavailable/);
      expect(response.json.data).toEqual({ me: null }); // a nullable field: null, with its error
    } finally {
      await redis.restart(); // empty: the session is gone, a new login works
    }
    await waitFor(async () => (await client.post('/login', { username: 'back' })).status === 201, {
      timeoutMs: 10_000,
      what: 'a login once Redis is back',
    });
    expect(await graphql(client, '{ me }')).toEqual({ me: 'back' });
  });
});
