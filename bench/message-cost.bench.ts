import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterSessionRuntime } from '../lib/cluster-session.runtime';
import { resolveOptions } from '../lib/options/resolve-options';
import { RedisServer } from '../sample/support/redis-server';
import { waitFor } from '../sample/support/wait-for';
import { TEST_SECRET } from '../test/support/cluster-fixture';
import { pin } from './support/pin';
import { sessionPayload } from './support/session-payload';

const SESSIONS = 1_000;
const IN_FLIGHT = 16;
const IDLE_SECONDS = 2;
const LOAD_SECONDS = 5;

type Reply = {
  ready?: true;
  cached?: number;
  cpu?: number;
  system?: number;
  received?: number;
  ignored?: number;
};

/**
 * #28: what a received message costs a node's CPU (every node receives every write of the
 * fleet). A receiving node runs alone in a child process on CPU 0; a writing node in this
 * process saves random sessions of 1,000 as fast as it can (16 in flight) for 5 s, with Redis
 * beside it on CPU 1. The receiver's CPU time (`process.cpuUsage`) over the load, less its idle
 * rate (heartbeats) measured before, divided by the messages it received. Two cases: the
 * receiver holds every session (each message is an update it applies to its copy), and holds
 * none (it checks the message and has nothing to apply).
 */
export async function messageCostBench(): Promise<string[]> {
  const redis = await RedisServer.start();
  pin(redis.pid, 1);
  pin(process.pid, 1);
  const rows: string[] = [];
  try {
    for (const held of [true, false]) {
      rows.push(await measure(redis, held));
    }
  } finally {
    pin(process.pid, 'all');
    await redis.dispose();
  }
  return [
    'CPU a node spends per message it receives: a receiving node alone on CPU 0 (child process), a writing node saving ' +
      `random sessions of ${SESSIONS.toLocaleString('en-US')} (${IN_FLIGHT} in flight, ${LOAD_SECONDS} s) with Redis on CPU 1; ` +
      `the receiver's CPU over the load less its idle rate (${IDLE_SECONDS} s before), per message received`,
    '',
    '| receiver | messages received | per second | receiver CPU per message | receiver busy at that rate |',
    '|---|---|---|---|---|',
    ...rows,
  ];
}

async function measure(redis: RedisServer, held: boolean): Promise<string> {
  const writer = new ClusterSessionRuntime(
    resolveOptions({ secret: TEST_SECRET, redis: redis.url, cluster: { nodeId: 'writer' } }),
  );
  await writer.start();
  const child = fork(join(__dirname, 'support', 'receiver.main.js'), [], {
    env: { ...process.env, REDIS_URL: redis.url },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const replies: Reply[] = [];
  child.on('message', (reply: Reply) => replies.push(reply));
  const ask = async (message: object): Promise<Reply> => {
    const count = replies.length;
    child.send(message);
    await waitFor(() => replies.length > count, { what: 'the receiver to answer' });
    return replies[count];
  };
  try {
    await waitFor(() => replies.some((reply) => reply.ready), { what: 'the receiver to start' });
    pin(child.pid, 0);
    const ids = await Promise.all(
      Array.from(
        { length: SESSIONS },
        async (_, i) => (await writer.store.create(sessionPayload(i))).id,
      ),
    );
    if (held) {
      await ask({ read: ids });
    }
    const idleFrom = await ask({ measure: true });
    await sleep(IDLE_SECONDS * 1_000);
    const idleTo = await ask({ measure: true });
    const idleRate = (idleTo.cpu! - idleFrom.cpu!) / IDLE_SECONDS; // µs per second
    const from = await ask({ measure: true });
    const started = Date.now();
    let saves = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (Date.now() - started < LOAD_SECONDS * 1_000) {
          const session = await writer.store.get(ids[Math.floor(Math.random() * ids.length)]);
          session!.data.visits = Number(session!.data.visits) + 1;
          await writer.store.save(session!);
          saves++;
        }
      }),
    );
    let to: Reply = from;
    await waitFor(
      async () => {
        to = await ask({ measure: true });
        return to.received! - from.received! >= saves;
      },
      { what: 'the receiver to receive every message' },
    );
    const seconds = (Date.now() - started) / 1_000;
    const messages = to.received! - from.received!;
    const perMessage = (to.cpu! - from.cpu! - idleRate * seconds) / messages;
    const rate = messages / seconds;
    const kernel = (to.system! - from.system!) / (to.cpu! - from.cpu!);
    return (
      `| ${held ? 'holds every session (applies each update)' : 'holds none'} | ${messages.toLocaleString('en-US')} | ` +
      `${Math.round(rate).toLocaleString('en-US')} | ${perMessage.toFixed(1)} µs (${(kernel * 100).toFixed(0)} % in the kernel) | ` +
      `${((rate * perMessage) / 1e4).toFixed(0)} % of a core |`
    );
  } finally {
    child.send({ stop: true });
    await Promise.race([once(child as ChildProcess, 'exit'), sleep(5_000)]);
    child.kill();
    await writer.stop();
  }
}
