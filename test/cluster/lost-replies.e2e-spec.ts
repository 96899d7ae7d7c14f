import type { Redis } from 'ioredis';
import { HttpClient } from '../http/support/http-client';
import type { SampleProcess } from '../../sample/support/sample-process';
import { waitFor } from '../../sample/support/wait-for';
import type { CommandFault, TcpProxy } from '../support/tcp-proxy';
import { samplesBehindProxies, type SamplesBehindProxies } from '../support/samples-behind-proxies';
import { script, type SessionScript } from '../support/script-matcher';

const SECRET = 'lost-replies-secret-of-32-characters!!';
/** The sample's command timeout here (the default is 2 s): the retry window too. */
const COMMAND_TIMEOUT = 500;
const LATE = COMMAND_TIMEOUT + 300;

/**
 * G11 on real processes: two sample nodes, each talking to Redis through its own fault proxy.
 * For every writing script, each fault: the reply dropped and the connection closed after Redis
 * ran it, the connection reset before it reached Redis, the reply later than the command timeout,
 * and the node cut off (reply dropped, reconnection refused past the retry window). The first
 * three must answer as if nothing happened, the write applied exactly once; the last answers 503
 * and leaves the session usable, the write applied at most once.
 */
describe('G11: every write survives a lost reply (real processes, fault proxy)', () => {
  let fleet: SamplesBehindProxies | undefined;
  let redis: Redis;
  let proxies: TcpProxy[];
  let nodes: SampleProcess[];

  beforeAll(async () => {
    fleet = await samplesBehindProxies(2, 'lost', {
      SESSION_SECRET: SECRET,
      SESSION_TOUCH_AFTER: '1000',
      REDIS_COMMAND_TIMEOUT: String(COMMAND_TIMEOUT),
    });
    ({ redis, proxies, nodes } = fleet);
  }, 60_000);

  afterEach(() => {
    for (const proxy of proxies) {
      proxy.disarm();
      proxy.refuseConnections = false;
    }
  });

  afterAll(() => fleet?.stop());

  const faults: [string, CommandFault][] = [
    ['reply dropped, connection closed', { kind: 'drop-reply-and-close' }],
    ['connection reset before it was sent', { kind: 'reset-before-send' }],
    ['reply later than the command timeout', { kind: 'delay-reply', ms: LATE }],
  ];

  let users = 0;
  async function signedIn(node = 0, data: Record<string, unknown> = {}) {
    const client = new HttpClient(nodes[node].url);
    const username = `user${++users}`;
    expect((await client.post('/login', { username })).status).toBe(200);
    if (Object.keys(data).length > 0) {
      expect((await client.patch('/me', data)).status).toBe(200);
    }
    return { client, username, id: client.sessionId! };
  }

  async function stored(id: string): Promise<Record<string, string>> {
    const keys = await redis.keys(`sess:{${id.slice(0, 4)}}${id}`);
    return keys.length === 1 ? redis.hgetall(keys[0]) : {};
  }

  /** Arms `fault` on node 0's next call of `name`, runs `act`, and checks the fault happened. */
  async function withFault<R>(name: SessionScript, fault: CommandFault, act: () => Promise<R>) {
    proxies[0].fault(script(name), fault);
    const result = await act();
    expect(proxies[0].armedFaults).toBe(0);
    return result;
  }

  describe.each(faults)('%s', (_, fault) => {
    it('create: the new session is stored once and the request answers 200', async () => {
      const client = new HttpClient(nodes[0].url);
      const response = await withFault('Create', fault, () => client.post('/visit'));
      expect(response.status).toBe(200);
      expect(response.json).toEqual({ visits: 1 });
      const stranger = new HttpClient(nodes[1].url);
      stranger.cookie = client.cookie;
      expect((await stranger.get('/me')).json).toMatchObject({ visits: 1 });
      expect((await stored(client.sessionId!)).v).toBe('1');
    });

    it('update: applied exactly once (one version), and read back on both nodes', async () => {
      const { client, id } = await signedIn();
      const before = Number((await stored(id)).v);
      const response = await withFault('Update', fault, () => client.patch('/me', { k: 'a' }));
      expect(response.status).toBe(200);
      expect(Number((await stored(id)).v)).toBe(before + 1);
      for (const node of nodes) {
        const reader = new HttpClient(node.url);
        reader.cookie = client.cookie;
        expect((await reader.get('/me')).json).toMatchObject({ k: 'a' });
      }
    });

    it('regenerate: a login keeps the data, moves it once, and leaves no orphan', async () => {
      const { client, id, username } = await signedIn(0, { cart: ['book'] });
      const response = await withFault('Regenerate', fault, () =>
        client.post('/login', { username }),
      );
      expect(response.status).toBe(200);
      const moved = client.sessionId!;
      expect(moved).not.toBe(id);
      expect(await stored(id)).toEqual({});
      expect(await stored(moved)).toMatchObject({ user: username });
      const reader = new HttpClient(nodes[1].url);
      reader.cookie = client.cookie;
      expect((await reader.get('/me')).json).toMatchObject({ username, cart: ['book'] });
    });

    it('destroy: a logout clears the cookie and the session stays gone on every node', async () => {
      const { client, id } = await signedIn();
      const cookie = client.cookie;
      const response = await withFault('Destroy', fault, () => client.post('/logout'));
      expect(response.status).toBe(200);
      expect(client.cookie).toBeUndefined(); // cleared
      expect(await stored(id)).toEqual({});
      for (const node of nodes) {
        const old = new HttpClient(node.url);
        old.cookie = cookie;
        expect((await old.get('/me')).status).toBe(401);
      }
    });

    it('destroy by owner: "log out everywhere" counts each session once', async () => {
      const { client, username } = await signedIn();
      const phone = new HttpClient(nodes[1].url);
      expect((await phone.post('/login', { username })).status).toBe(200);
      const response = await withFault('Destroy', fault, () => client.post('/logout-all'));
      expect(response.status).toBe(200);
      expect(response.json).toEqual({ destroyed: 2 });
      expect((await phone.get('/me')).status).toBe(401);
    });

    it("the user index: a login is listed, so that 'log out everywhere' reaches it", async () => {
      const username = `user${++users}`;
      const laptop = new HttpClient(nodes[0].url);
      const response = await withFault('IndexAdd', fault, () =>
        laptop.post('/login', { username }),
      );
      expect(response.status).toBe(200);
      const phone = new HttpClient(nodes[1].url);
      expect((await phone.post('/login', { username })).status).toBe(200);
      expect((await phone.post('/logout-all')).json).toEqual({ destroyed: 2 });
      expect((await laptop.get('/me')).status).toBe(401);
    });

    it('touch: the expiry is refreshed and the session served', async () => {
      const { client, id } = await signedIn();
      const loggedInAt = Date.now();
      const key = `sess:{${id.slice(0, 4)}}${id}`;
      // the node touches a session at most once per touchAfter (1 s here) after its last write
      await waitFor(async () => Date.now() - loggedInAt > 1_100, { what: 'touchAfter to pass' });
      await redis.pexpire(key, 60_000); // shortened: the touch brings it back to the idle timeout
      proxies[0].fault(script('Touch'), fault);
      expect((await client.get('/me')).status).toBe(200);
      await waitFor(async () => proxies[0].armedFaults === 0, { what: 'the touch' });
      await waitFor(async () => (await redis.pttl(key)) > 60_000, {
        what: 'the touch to refresh the expiry',
      });
      expect((await client.get('/me')).status).toBe(200);
    });
  });

  it('update: a write that ran before a lost reply is not written again over a later acknowledged write', async () => {
    const { client, id } = await signedIn();
    const other = new HttpClient(nodes[1].url);
    other.cookie = client.cookie;
    proxies[0].fault(script('Update'), { kind: 'drop-reply-and-close' });
    proxies[0].refuseConnections = true; // node 0 cannot retry yet
    const first = client.patch('/me', { k: 'from node 0' });
    await waitFor(async () => (await stored(id))['d:k'] !== undefined, {
      what: "node 0's write to reach Redis",
    });
    // node 1 writes the same key after it, and is acknowledged
    expect((await other.patch('/me', { k: 'from node 1' })).status).toBe(200);
    const version = Number((await stored(id)).v);
    proxies[0].refuseConnections = false;
    expect((await first).status).toBe(200);
    // node 0's retry found its write done: nothing written again
    expect(Number((await stored(id)).v)).toBe(version);
    expect((await other.get('/me')).json).toMatchObject({ k: 'from node 1' });
    expect((await client.get('/me')).json).toMatchObject({ k: 'from node 1' });
  });

  describe.each<[string, CommandFault]>([
    ['Redis ran it', { kind: 'drop-reply-and-close' }],
    ['Redis never got it', { kind: 'reset-before-send' }],
  ])('cut off past the retry window (%s)', (_, fault) => {
    it.each<SessionScript>(['Create', 'Update', 'Regenerate', 'Destroy'])(
      '%s: 503, applied at most once, and the next request sees what Redis holds',
      async (name) => {
        const { client, id, username } = await signedIn(0, { n: 1 });
        const cookie = client.cookie;
        const before = await stored(id);
        const fresh = new HttpClient(nodes[0].url);
        const acts: Record<string, () => Promise<{ status: number }>> = {
          Create: () => fresh.post('/visit'),
          Update: () => client.patch('/me', { n: 2 }),
          Regenerate: () => client.post('/login', { username }),
          Destroy: () => client.post('/logout'),
        };
        proxies[0].fault(script(name), fault);
        proxies[0].refuseConnections = true;
        const response = await acts[name]();
        expect(response.status).toBe(503);
        expect(proxies[0].armedFaults).toBe(0);
        proxies[0].refuseConnections = false;
        await waitFor(
          async () => (await new HttpClient(nodes[0].url).get('/health')).status === 200,
          {
            what: 'node 0 to reconnect',
          },
        );

        // Redis holds the session as it was, or with this one write applied
        const after = await stored(id);
        const applied = fault.kind === 'drop-reply-and-close';
        if (name === 'Update') {
          expect(Number(after.v)).toBe(Number(before.v) + (applied ? 1 : 0));
          expect(after['d:n']).toBe(applied ? '2' : '1');
        } else if (name === 'Create') {
          expect(after).toEqual(before);
        } else {
          expect(after).toEqual(applied ? {} : before); // moved or destroyed, or as it was
        }
        // and the next request, on either node, with the cookie the browser kept, sees just that
        for (const node of nodes) {
          const next = new HttpClient(node.url);
          next.cookie = cookie;
          const me = await next.get('/me');
          if (Object.keys(after).length === 0) {
            expect(me.status).toBe(401); // a logout that happened; a login whose new cookie never arrived
          } else {
            expect(me.status).toBe(200);
            expect(me.json).toMatchObject({ username, n: Number(after['d:n']) });
          }
        }
        if (Object.keys(after).length > 0) {
          const next = new HttpClient(nodes[0].url);
          next.cookie = cookie;
          expect((await next.patch('/me', { n: 3 })).status).toBe(200);
          expect((await next.get('/me')).json).toMatchObject({ n: 3 });
        }
      },
    );
  });
});
