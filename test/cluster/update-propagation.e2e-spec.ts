import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { encodeClusterMessage } from '../../lib/cluster/cluster-message';
import { MessageAuthenticator } from '../../lib/cluster/message-auth';
import { sessionKey } from '../../lib/store/session-keys';
import { cachedOn, received, startNode, TEST_SECRET } from '../support/cluster-fixture';
import { nodesOnOneRedis } from '../support/nodes-on-one-redis';
import { waitFor } from '../../sample/support/wait-for';

const CHANNEL = 'session:cluster:invalidate';

/**
 * #23 item 1: a save's message carries what it wrote, and a node holding the version before
 * applies it to its copy. Two nodes in this process on a real Redis; messages captured and
 * published by a plain subscriber where a test needs to forge, replay or reorder them.
 */
describe.each([false, true])("'update' propagation (encryption %s)", (encryption) => {
  const on = nodesOnOneRedis({ encryption });
  beforeEach(() => on.setUp());
  afterEach(() => on.tearDown());
  const { messages, nodes, node } = on;
  /** Reads on `n` that went to Redis so far. */
  const misses = (n: ClusterSessionRuntime) => n.store.cacheStats().misses;
  /** What Redis holds, read by a node with no cache of it. */
  const inRedis = async (id: string) => {
    const fresh = await node(`fresh-${nodes.length}`);
    return fresh.store.get(id);
  };

  it('another node’s save reaches the cached copy: the next read is a hit, of the new version', async () => {
    const [a, b] = [await node('a'), await node('b')];
    const created = await a.store.create({ n: 1, keep: 'x', drop: true });
    await cachedOn(b, created.id);
    const session = (await a.store.get(created.id))!;
    session.data.n = 2;
    delete (session.data as Record<string, unknown>).drop;
    session.setUser('alice');
    await a.store.save(session);
    await waitFor(() => b.store.updatesAppliedCount === 1, { what: 'b to apply the update' });

    const before = misses(b);
    const served = (await b.store.get(created.id))!;
    expect(misses(b)).toBe(before); // from memory
    expect(served.version).toBe(session.version);
    expect(served.data).toEqual({ n: 2, keep: 'x' });
    expect(served.userId).toBe('alice');
    const stored = (await inRedis(created.id))!;
    expect([stored.version, stored.data, stored.userId]).toEqual([
      served.version,
      served.data,
      served.userId,
    ]);
    // G7: the updated copy does not outlive the key in Redis
    const pttl = await on.redis.pttl(sessionKey('sess:', created.id));
    expect(served.expiresAt).toBeLessThanOrEqual(Date.now() + pttl);
  });

  it('with encryption the change travels as stored: the value is not on the channel in clear', async () => {
    const [a, b] = [await node('a'), await node('b')];
    const created = await a.store.create({ secret: 'nothing' });
    await cachedOn(b, created.id);
    const session = (await a.store.get(created.id))!;
    session.data.secret = 'plaintext-value-4711';
    await a.store.save(session);
    await waitFor(() => b.store.updatesAppliedCount === 1, { what: 'b to apply the update' });
    expect((await b.store.get(created.id))!.data.secret).toBe('plaintext-value-4711');
    const update = messages.find((message) => message.startsWith('ncs3|u|'));
    expect(update).toBeDefined();
    expect(update!.includes('plaintext-value-4711')).toBe(!encryption);
  });

  it('#24 item 5: no signing key is sent to Redis (nothing MONITOR or SLOWLOG could show)', async () => {
    const [a, b] = [await node('a'), await node('b')];
    // every argument of every command the writer sends, as sent
    const sent: Buffer[] = [];
    const send = a.redis.sendCommand.bind(a.redis);
    a.redis.sendCommand = ((command: { args: unknown[] }) => {
      for (const arg of command.args) {
        sent.push(Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg)));
      }
      return send(command as never);
    }) as typeof a.redis.sendCommand;
    const created = await a.store.create({ n: 1 });
    await cachedOn(b, created.id);
    const session = (await a.store.get(created.id))!;
    session.data.n = 2;
    await a.store.save(session);
    await a.store.destroy(created.id);
    expect(sent.some((arg) => arg.toString().startsWith('ncs3|u|'))).toBe(true); // the writes, seen
    // the key a node signs with, and the padded forms earlier scripts were given
    const auth = new MessageAuthenticator([TEST_SECRET], { channel: CHANNEL, keyPrefix: 'sess:' });
    const key = Buffer.from(auth.innerKey.map((byte) => byte ^ 0x36));
    for (const secret of [key, auth.innerKey, auth.outerKey]) {
      const forms = [
        secret,
        Buffer.from(secret.toString('hex')),
        Buffer.from(secret.toString('base64')),
      ];
      expect(sent.filter((arg) => forms.some((form) => arg.includes(form)))).toEqual([]);
    }
  });

  it('a copy of another version than the one before is dropped, not updated', async () => {
    const [a, b] = [await node('a'), await node('b')];
    // a node without Pub/Sub writes version 2 silently: b's copy stays at 1
    const silent = await startNode(on.server.url, { encryption, cluster: { enabled: false } });
    nodes.push(silent);
    const created = await a.store.create({ n: 1 });
    await cachedOn(b, created.id);
    const second = (await silent.store.get(created.id))!;
    second.data.n = 2;
    await silent.store.save(second);
    const third = (await a.store.get(created.id))!;
    third.data.n = 3;
    const seen = b.coordinator.stats().received;
    await a.store.save(third); // found version 2, not 1: sent again onto 2 (a no-op, then the update)
    await received(b, seen, 2);

    const served = (await b.store.get(created.id))!;
    expect(b.store.updatesAppliedCount).toBe(0);
    expect([served.version, served.data.n]).toEqual([3, 3]);
  });

  it('concurrent saves of different keys on two nodes both persist, and every copy ends as Redis holds it', async () => {
    const [a, b, c] = [await node('a'), await node('b'), await node('c')];
    const created = await a.store.create({ x: 0, y: 0 });
    for (const n of [a, b, c]) {
      await cachedOn(n, created.id);
    }
    for (let round = 1; round <= 20; round++) {
      const [onA, onB] = [(await a.store.get(created.id))!, (await b.store.get(created.id))!];
      onA.data.x = round;
      onB.data.y = round;
      await Promise.all([a.store.save(onA), b.store.save(onB)]);
    }
    const stored = (await inRedis(created.id))!;
    expect(stored.data).toEqual({ x: 20, y: 20 });
    for (const n of [a, b, c]) {
      await waitFor(async () => (await n.store.get(created.id))!.version === stored.version, {
        what: `${n.options.cluster.nodeId} to converge`,
      });
      expect((await n.store.get(created.id))!.data).toEqual(stored.data);
    }
    expect(c.store.updatesAppliedCount).toBeGreaterThan(0);
  });

  it('three nodes, three writers each, every save saved twice: all keys persist, one message per attempt, every copy ends as Redis', async () => {
    // no heartbeat: a late one under load (CI) flushes the cache too, and this counts flushes
    const quiet = { cluster: { heartbeatInterval: 60_000 } };
    const trio = [await node('a', quiet), await node('b', quiet), await node('c', quiet)];
    const created = await trio[0].store.create({ base: 0 });
    const written: string[] = [];
    const outcomes: unknown[] = [];
    await Promise.all(
      trio.flatMap((n, k) =>
        [0, 1, 2].map(async (w) => {
          for (let i = 0; i < 8; i++) {
            const session = (await n.store.get(created.id))!;
            for (const key of [`k${k}${w}${i}`, `x${k}${w}${i}`]) {
              // the second save of the same session object follows a merged one half the time
              (session.data as Record<string, unknown>)[key] = i;
              written.push(key);
              outcomes.push(await n.store.save(session).catch((error: Error) => error.message));
            }
          }
        }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome !== true)).toEqual([]);
    const sent = trio.reduce((sum, n) => sum + n.coordinator.stats().sent, 0);
    await waitFor(() => messages.length === sent, { what: 'every message on the channel' });
    expect(trio.reduce((sum, n) => sum + n.coordinator.stats().flushes, 0)).toBe(3); // one per subscription
    const stored = (await inRedis(created.id))!;
    expect(Object.keys(stored.data).sort()).toEqual(['base', ...written].sort());
    for (const n of trio) {
      await waitFor(async () => (await n.store.get(created.id))!.version === stored.version, {
        what: `${n.options.cluster.nodeId} to converge`,
      });
      expect((await n.store.get(created.id))!.data).toEqual(stored.data);
    }
  });

  it('a save above cluster.maxUpdateBytes, or with propagation "invalidate", drops the copy instead', async () => {
    const a = await node('a', { cluster: { maxUpdateBytes: 512 } });
    const b = await node('b');
    const c = await node('c', { cluster: { propagation: 'invalidate' } });
    const created = await a.store.create({ n: 1 });
    await cachedOn(b, created.id);
    const big = (await a.store.get(created.id))!;
    big.data.blob = 'x'.repeat(600);
    let seen = b.coordinator.stats().received;
    await a.store.save(big);
    await received(b, seen);
    expect(messages.at(-1)).toMatch(/^ncs3\|i\|/);
    let before = misses(b);
    expect((await b.store.get(created.id))!.data.blob).toHaveLength(600);
    expect(misses(b)).toBe(before + 1);

    await cachedOn(a, created.id);
    await cachedOn(b, created.id);
    const small = (await c.store.get(created.id))!;
    small.data.n = 2;
    seen = b.coordinator.stats().received;
    await c.store.save(small);
    await received(b, seen);
    expect(messages.at(-1)).toMatch(/^ncs3\|i\|/);
    before = misses(b);
    expect((await b.store.get(created.id))!.data.n).toBe(2);
    expect(misses(b)).toBe(before + 1);
    expect(b.store.updatesAppliedCount).toBe(0);
  });

  it('G7: an updated copy is not served once the session has expired in Redis', async () => {
    const a = await node('a', { ttl: 1_500, touchAfter: 1_000 });
    const b = await node('b', { ttl: 1_500, touchAfter: 1_000 });
    const created = await a.store.create({ n: 1 });
    await cachedOn(b, created.id);
    const session = (await a.store.get(created.id))!;
    session.data.n = 2;
    await a.store.save(session);
    await waitFor(() => b.store.updatesAppliedCount === 1, { what: 'b to apply the update' });
    await waitFor(async () => (await on.redis.exists(sessionKey('sess:', created.id))) === 0, {
      what: 'the session to expire in Redis',
    });
    expect(await b.store.get(created.id)).toBeNull();
  });

  describe('messages that must never update a copy', () => {
    /** Signs as a node of this app would (same secret and scope): the real format. */
    const signer = new MessageAuthenticator([TEST_SECRET], {
      channel: CHANNEL,
      keyPrefix: 'sess:',
    });
    const publish = (message: string) => on.redis.publish(CHANNEL, message);

    it('forged (another secret) or altered: ignored, the copy served as it was', async () => {
      const b = await node('b');
      const a = await node('a');
      const created = await a.store.create({ role: 'user' });
      await cachedOn(b, created.id);
      const forger = new MessageAuthenticator(['a-forger-secret-of-32-characters-xx'], {
        channel: CHANNEL,
        keyPrefix: 'sess:',
      });
      const change = {
        touchedAt: Date.now(),
        deadline: Date.now() + 60_000,
        set: [['d:role', '"admin"']] as [string, string][],
        removed: [],
      };
      const from = { origin: 'forger', epoch: 'f'.repeat(16), seq: 1, sentAt: Date.now() };
      const forged = encodeClusterMessage(
        { kind: 'update', id: created.id, version: 2, change },
        from,
        forger,
      );
      const genuine = encodeClusterMessage(
        {
          kind: 'update',
          id: created.id,
          version: 2,
          change: { ...change, set: [['d:role', '"user"']] },
        },
        from,
        signer,
      );
      const altered = genuine.replace('\\"user\\"', '\\"admin\\"');
      expect(altered).not.toBe(genuine);
      const ignored = b.coordinator.stats().ignored;
      await publish(forged);
      await publish(altered);
      await waitFor(() => b.coordinator.stats().ignored === ignored + 2, {
        what: 'b to ignore both',
      });
      const served = await cachedOn(b, created.id);
      expect([served.version, served.data.role]).toEqual([1, 'user']);
      expect(b.store.updatesAppliedCount).toBe(0);
    });

    it('replayed or reordered: never applied onto a copy they were not computed from', async () => {
      const [a, b] = [await node('a'), await node('b')];
      const created = await a.store.create({ n: 0 });
      await cachedOn(b, created.id);
      for (let n = 1; n <= 3; n++) {
        const session = (await a.store.get(created.id))!;
        session.data.n = n;
        await a.store.save(session);
      }
      await waitFor(() => b.store.updatesAppliedCount === 3, { what: 'b to apply three updates' });
      const updates = messages.filter((message) => message.startsWith('ncs3|u|'));
      expect(updates).toHaveLength(3);

      // replayed, newest first: b holds version 4 and none of them was computed from it
      for (const message of [...updates].reverse()) {
        await publish(message);
      }
      await waitFor(() => b.coordinator.stats().flushes > 1, { what: 'b to see the repeat' });
      const served = (await b.store.get(created.id))!;
      expect([served.version, served.data.n]).toEqual([4, 3]);
      expect(b.store.updatesAppliedCount).toBe(3);

      // reordered on a fresh node holding version 4: the change 3 -> 4 is not applied onto 4
      const c = await node('c');
      await cachedOn(c, created.id);
      const seen = c.coordinator.stats().received;
      await publish(updates[2]);
      await received(c, seen);
      const onC = await cachedOn(c, created.id);
      expect([onC.version, onC.data.n]).toEqual([4, 3]);
      expect(c.store.updatesAppliedCount).toBe(0);
    });
  });
});
