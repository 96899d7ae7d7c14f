import type { Redis } from 'ioredis';
import { HttpClient, sessionIdOf } from '../http/support/http-client';
import type { SampleProcess } from '../../sample/support/sample-process';
import { waitFor } from '../../sample/support/wait-for';
import type { CommandFault, CommandMatcher, TcpProxy } from '../support/tcp-proxy';
import { samplesBehindProxies, type SamplesBehindProxies } from '../support/samples-behind-proxies';
import { script, sessionRead } from '../support/script-matcher';

const SECRET = 'fault-history-secret-of-32-characters!';
const NODES = 3;
const USERS = 8;
const WRITERS = 2;
/** Users whose first writer logs out halfway through. */
const LOGGING_OUT = 2;
const RUN_MS = 10_000;
/** The nodes' command timeout (the default is 2 s), so faults past it come often. */
const COMMAND_TIMEOUT = 500;
/** How long after an acknowledged logout another node may still serve its cached copy (G2, generous). */
const PROPAGATION_MS = 1_000;

interface Writer {
  client: HttpClient;
  key: string;
  acked: number;
  attempted: number;
}

interface User {
  name: string;
  id: string;
  key: string;
  startVersion: number;
  writers: Writer[];
  writesAcked: number;
  writesFailed: number;
  /** When its logout was first sent (a logout that answered 503 may have happened). */
  loggingOutSince?: number;
  /** When its logout was acknowledged. */
  loggedOutAt?: number;
}

/**
 * The fault-history checker (G11): three sample processes, each talking to Redis through its own
 * fault proxy, under random faults injected into random writing scripts on every node (replies
 * dropped with the connection closed, connections reset before a command, replies late or later
 * than the command timeout, a node cut off past the retry window). Every user's session has two
 * writers, each owning one key, sending requests to random nodes. What must hold:
 * - no acknowledged write is lost, and none is applied twice: a session's version moves by
 *   exactly one per acknowledged write, plus at most one per write that answered 503;
 * - no client ever reads its own key below what it had acknowledged (reads carry the client's
 *   own cookie, G9: what it wrote never goes backwards for it);
 * - no destroyed session comes back (nothing of it served once its logout has propagated, and
 *   nothing of it in Redis);
 * - the only failures are 503s.
 */
describe('fault history: random lost replies on three sample processes', () => {
  let fleet: SamplesBehindProxies | undefined;
  let redis: Redis;
  let proxies: TcpProxy[];
  let nodes: SampleProcess[];

  beforeAll(async () => {
    fleet = await samplesBehindProxies(NODES, 'hist', {
      SESSION_SECRET: SECRET,
      SESSION_TOUCH_AFTER: '500',
      REDIS_COMMAND_TIMEOUT: String(COMMAND_TIMEOUT),
    });
    ({ redis, proxies, nodes } = fleet);
  }, 60_000);

  afterAll(() => fleet?.stop());

  const anyNode = () => nodes[Math.floor(Math.random() * NODES)].url;
  const keyOf = (id: string) => `sess:{${id.slice(0, 4)}}${id}`;

  it('loses no acknowledged write, applies none twice, never goes backwards, never resurrects', async () => {
    const violations: string[] = [];
    // every request, for the report of a violation
    const trace: string[] = [];
    const users: User[] = [];
    for (let u = 0; u < USERS; u++) {
      const login = new HttpClient(anyNode());
      expect((await login.post('/login', { username: `hist-${u}` })).status).toBe(200);
      const id = sessionIdOf(login.cookie!);
      const writers = Array.from({ length: WRITERS }, (_, w) => {
        const client = new HttpClient(anyNode());
        client.cookie = login.cookie;
        return { client, key: `w${w}`, acked: 0, attempted: 0 };
      });
      const startVersion = Number(await redis.hget(keyOf(id), 'v'));
      users.push({
        name: `hist-${u}`,
        id,
        key: keyOf(id),
        startVersion,
        writers,
        writesAcked: 0,
        writesFailed: 0,
      });
    }

    const endAt = Date.now() + RUN_MS;
    const running = () => Date.now() < endAt;
    const commands: CommandMatcher[] = [
      ...(['Update', 'Update', 'Update', 'Destroy', 'Touch'] as const).map((name) => script(name)),
      sessionRead(),
    ];
    // faults armed on commands a node may not send for a while (a touch, a destroy, a read
    // while its cache hits) are dropped after a second without an injection, so they never
    // hold a node's two slots for the rest of the run
    const lastInjection = proxies.map(() => ({ count: 0, at: Date.now() }));
    const injector = (async () => {
      while (running()) {
        const i = Math.floor(Math.random() * NODES);
        const proxy = proxies[i];
        if (proxy.faultsInjected !== lastInjection[i].count) {
          lastInjection[i] = { count: proxy.faultsInjected, at: Date.now() };
        } else if (Date.now() - lastInjection[i].at > 1_000) {
          proxy.disarm();
          lastInjection[i].at = Date.now();
        }
        if (proxy.armedFaults < 2 && !proxy.refuseConnections) {
          const roll = Math.random();
          const fault: CommandFault =
            roll < 0.4
              ? { kind: 'drop-reply-and-close' }
              : roll < 0.65
                ? { kind: 'reset-before-send' }
                : roll < 0.85
                  ? { kind: 'delay-reply', ms: 200 + Math.random() * 400 }
                  : { kind: 'delay-reply', ms: COMMAND_TIMEOUT + 300 };
          proxy.fault(commands[Math.floor(Math.random() * commands.length)], fault);
          if (Math.random() < 0.02) {
            // cut off past the retry window: the writes in flight answer 503
            proxy.fault(script('Update'), { kind: 'drop-reply-and-close' });
            proxy.refuseConnections = true;
            setTimeout(() => (proxy.refuseConnections = false), COMMAND_TIMEOUT + 300);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
      }
    })();

    const observe = (user: User, writer: Writer, json: Record<string, unknown>, at0: string) => {
      const at = `${at0} on ${String(json.node)} cookie ${decodeURIComponent(writer.client.cookie ?? '').slice(0, 70)} t=${Date.now() % 100000}`;
      // (only what this client wrote is promised: its cookie carries the version of its own
      // last write, not of what its reads saw, so another writer's key may read older, G9)
      if (Number(json[writer.key] ?? 0) < writer.acked) {
        violations.push(
          `${at}: ${user.name} lost ${writer.key}=${writer.acked} (read ${String(json[writer.key])})`,
        );
      }
    };

    const loop = async (user: User, writer: Writer, w: number) => {
      const logsOutAt = Date.now() + RUN_MS / 2;
      while (running()) {
        writer.client = Object.assign(new HttpClient(anyNode()), { cookie: writer.client.cookie });
        const loggedOutAt = user.loggedOutAt;
        // sent after the logout was: it may find the session gone
        const mayBeGone = user.loggingOutSince !== undefined;
        if (
          w === 0 &&
          users.indexOf(user) < LOGGING_OUT &&
          loggedOutAt === undefined &&
          Date.now() > logsOutAt
        ) {
          user.loggingOutSince ??= Date.now();
          const response = await writer.client.post('/logout');
          if (response.status === 200) {
            user.loggedOutAt = Date.now();
            return;
          }
          if (response.status !== 503) {
            violations.push(`logout of ${user.name} answered ${response.status}`);
          }
          continue;
        }
        if (Math.random() < 0.7) {
          const value = writer.attempted + 1;
          writer.attempted = value;
          const t0 = Date.now();
          const response = await writer.client.patch('/me', { [writer.key]: value });
          trace.push(
            `${t0 % 100000}-${Date.now() % 100000} ${user.name}.${writer.key}=${value} -> ${response.status} ${String((response.json as { node?: string })?.node ?? '')} cookie ${decodeURIComponent(writer.client.cookie ?? '').split(/[:.]/)[1]} ${JSON.stringify(response.json).slice(0, 80)}`,
          );
          if (response.status === 200) {
            writer.acked = value;
            user.writesAcked++;
            observe(user, writer, response.json as Record<string, unknown>, 'write');
          } else if (response.status === 503) {
            user.writesFailed++;
          } else if (!(response.status === 401 && mayBeGone)) {
            violations.push(
              `write of ${user.name}.${writer.key} answered ${response.status} ${JSON.stringify(response.json)}`,
            );
          }
          if (
            response.status === 200 &&
            loggedOutAt !== undefined &&
            Date.now() - loggedOutAt > PROPAGATION_MS
          ) {
            violations.push(`${user.name} written after its logout had propagated`);
          }
        } else {
          const t0 = Date.now();
          const response = await writer.client.get('/me');
          trace.push(
            `${t0 % 100000}-${Date.now() % 100000} ${user.name}.${writer.key} GET -> ${response.status} cookie ${decodeURIComponent(writer.client.cookie ?? '').split(/[:.]/)[1]} ${JSON.stringify(response.json).slice(0, 100)}`,
          );
          if (response.status === 200) {
            if (loggedOutAt !== undefined && Date.now() - loggedOutAt > PROPAGATION_MS) {
              violations.push(`${user.name} served after its logout had propagated`);
            }
            observe(user, writer, response.json as Record<string, unknown>, 'read');
          } else if (response.status !== 503 && !(response.status === 401 && mayBeGone)) {
            violations.push(`read of ${user.name} answered ${response.status}`);
          }
        }
        if (loggedOutAt !== undefined && Date.now() - loggedOutAt > 2 * PROPAGATION_MS) {
          return;
        }
      }
    };

    const loops = users.flatMap((user) => user.writers.map((writer, w) => loop(user, writer, w)));
    await Promise.all([injector, ...loops]);
    for (const proxy of proxies) {
      proxy.disarm();
      proxy.refuseConnections = false;
    }

    // every node answers again
    for (const node of nodes) {
      await waitFor(async () => (await fetch(`${node.url}/health`)).status === 200, {
        what: 'every node to be healthy',
      });
    }
    for (const user of users) {
      const stored = await redis.hgetall(user.key);
      if (user.loggedOutAt !== undefined) {
        expect({ user: user.name, stored }).toEqual({ user: user.name, stored: {} });
        continue;
      }
      if (user.loggingOutSince !== undefined && Object.keys(stored).length === 0) {
        continue; // its logout answered 503, and had happened
      }
      const moved = Number(stored.v) - user.startVersion;
      if (moved < user.writesAcked || moved > user.writesAcked + user.writesFailed) {
        violations.push(
          `${user.name}: version moved by ${moved} for ${user.writesAcked} acknowledged and ${user.writesFailed} failed writes`,
        );
      }
      for (const writer of user.writers) {
        const value = Number(JSON.parse(stored[`d:${writer.key}`] ?? '0'));
        if (value < writer.acked || value > writer.attempted) {
          violations.push(
            `${user.name}.${writer.key} is ${value}: acknowledged ${writer.acked}, attempted ${writer.attempted}`,
          );
        }
      }
    }
    if (violations.length > 0) {
      // what the first violating user's clients did, and what the nodes logged
      const user = /(hist-\d+)/.exec(violations[0])?.[1] ?? '';
      const errors = nodes.flatMap((node) =>
        node.output.split('\n').filter((line) => / (ERROR|WARN) /.test(line)),
      );
      violations.push(
        ...trace.filter((line) => line.includes(`${user}.`)).slice(-40),
        ...errors.slice(0, 20),
      );
    }
    expect(violations).toEqual([]);
    // and the run did what it is for: writes went through, faults hit every node (loose
    // bounds: on a loaded machine fewer requests fit in the run)
    const acknowledged = users.reduce((sum, user) => sum + user.writesAcked, 0);
    const faults = proxies.map((proxy) => proxy.faultsInjected);
    if (acknowledged < 50 || !faults.every((count) => count > 0)) {
      throw new Error(
        `the run did too little: ${acknowledged} writes acknowledged; faults per node: ${faults.join(', ')}`,
      );
    }
  }, 60_000);
});
