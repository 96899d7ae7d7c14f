import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import {
  expressSessionView,
  type ExpressSessionView,
} from '../../lib/session/express-session.view';
import type { SessionHandle } from '../../lib/session/session-handle';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';
import { requestOn, startNode } from '../support/cluster-fixture';

type Data = Record<string, unknown>;

/**
 * #26: a request's session operations asked for at once (fields of one GraphQL query, a
 * `req.session.save()` nobody awaits before a Passport login) run in the order they were asked
 * for, so each acts on what the one before left: a save before a login is moved with the
 * session, a save after it writes the new id, and the response sets the cookie of the session
 * that holds it all.
 */
describe('session operations in the order asked for', () => {
  let server: RedisServer;
  let node: ClusterSessionRuntime;

  beforeAll(async () => {
    server = await RedisServer.start();
    node = await startNode(server.url, { cluster: { nodeId: 'order' } });
    await waitFor(() => node.coordinator!.isTrusted(), { what: 'the node to subscribe' });
  });

  afterAll(async () => {
    await node.stop();
    await server.dispose();
  });

  async function stored() {
    const session = await node.store.create({ n: 1 });
    const handle = requestOn<Data>(node, { id: session.id, version: session.version });
    await handle.load();
    return handle;
  }

  /** What the response does, and what the session its cookie names holds. */
  async function committed(handle: SessionHandle<Data>, user?: string) {
    const action = await handle.commit();
    const id = action && 'set' in action ? action.set : undefined;
    const session = id ? await node.store.get(id) : null;
    return {
      cookie: id ? 'set' : action,
      data: session?.data,
      userId: session?.userId,
      listed: user === undefined ? undefined : await node.store.listForUser(user),
      id,
    };
  }

  it('a save, then a fresh regenerate (a Passport login) in the same turn: both land on the new id', async () => {
    const handle = await stored();
    handle.set('remembered', 'yes');
    const saving = handle.save();
    const login = handle.regenerate({ fresh: true, keep: ['remembered'] });
    await Promise.all([saving, login]);
    handle.set('passport', { user: 'alice' });
    expect(await committed(handle)).toMatchObject({
      cookie: 'set',
      data: { remembered: 'yes', passport: { user: 'alice' } },
    });
  });

  it("express-session's API: req.session.save() not awaited, then req.session.regenerate(cb)", async () => {
    const handle = await stored();
    const request: { session?: ExpressSessionView<Data> } = {};
    request.session = expressSessionView(handle, request);
    request.session.returnTo = '/account';
    void request.session.save();
    await new Promise<void>((resolve) =>
      request.session!.regenerate(() => {
        request.session!.passport = { user: 'alice' };
        resolve();
      }),
    );
    expect(await committed(handle)).toMatchObject({
      cookie: 'set',
      data: { passport: { user: 'alice' } },
    });
  });

  it('a save that sets the owner, then regenerate: the moved session keeps the owner and is listed', async () => {
    const handle = await stored();
    handle.setUser('owner-1');
    handle.set('x', 1);
    await Promise.all([handle.save(), handle.regenerate()]);
    const outcome = await committed(handle, 'owner-1');
    expect(outcome).toMatchObject({ cookie: 'set', data: { n: 1, x: 1 }, userId: 'owner-1' });
    expect(outcome.listed).toEqual([outcome.id]);
  });

  it('regenerate, a save with a new owner, regenerate again: one session, the last id, listed', async () => {
    const handle = await stored();
    const first = handle.regenerate();
    handle.setUser('owner-2');
    handle.set('x', 1);
    await Promise.all([first, handle.save(), handle.regenerate()]);
    const outcome = await committed(handle, 'owner-2');
    expect(outcome).toMatchObject({ cookie: 'set', data: { n: 1, x: 1 }, userId: 'owner-2' });
    expect(outcome.listed).toEqual([outcome.id]);
  });

  it("a new session's first save in flight, then regenerate: one session, not two", async () => {
    const handle = requestOn<Data>(node, null);
    handle.loadSync();
    handle.setUser('owner-3');
    handle.set('x', 1);
    const saving = handle.save();
    await new Promise((resolve) => setImmediate(resolve)); // the insert is on its way
    await Promise.all([saving, handle.regenerate()]);
    const outcome = await committed(handle, 'owner-3');
    expect(outcome).toMatchObject({ cookie: 'set', data: { x: 1 }, userId: 'owner-3' });
    expect(outcome.listed).toEqual([outcome.id]);
  });
});
