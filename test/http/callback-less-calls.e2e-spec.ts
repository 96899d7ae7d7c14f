import { join } from 'node:path';
import { HttpClient } from './support/http-client';
import { TEST_SECRET } from '../support/cluster-fixture';
import { RedisServer } from '../../sample/support/redis-server';
import { SampleProcess } from '../../sample/support/sample-process';
import { waitFor } from '../../sample/support/wait-for';

const SCRIPT = join(__dirname, 'support', 'callback-less-app.js');

/** express-session code calling save()/destroy() without a callback: a failure must not kill the node. */
describe('#15 review: callback-less session API calls', () => {
  let server: RedisServer;
  let node: SampleProcess;

  beforeEach(async () => {
    server = await RedisServer.start();
    node = await SampleProcess.start(
      { REDIS_URL: server.url, SESSION_SECRET: TEST_SECRET },
      { ready: 'listening', script: SCRIPT },
    );
  });
  afterEach(async () => {
    await node?.stop();
    await server?.dispose();
  });

  it('req.session.save() with an oversized value (user input) does not crash the process', async () => {
    const c = new HttpClient(node.url);
    // the save is refused at once (too large): an unhandled rejection would stop the process
    // before it answers the next request
    // (the commit after the handler refuses the too-large session too: a 500, as for any)
    expect((await c.post('/note', { note: 'x'.repeat(70_000) })).status).toBe(500);
    expect((await new HttpClient(node.url).get('/ping')).status).toBe(200);
    expect(node.exitCode).toBeNull();
  });

  it('req.session.destroy() during a Redis outage does not crash the process', async () => {
    const c = new HttpClient(node.url);
    await c.post('/set');
    expect(c.cookie).toBeDefined();
    await server.stop();
    await c.post('/logout'); // its destroy fails at once: no connection, no offline queue
    expect((await new HttpClient(node.url).get('/ping')).status).toBe(200);
    expect(node.exitCode).toBeNull();
  });

  it('a throwing regenerate(cb) callback does not crash the process', async () => {
    const c = new HttpClient(node.url);
    await c.post('/set');
    await c.post('/regen');
    await waitFor(
      () => node.output.includes('a req.session callback threw: Error: bug in the callback'),
      {
        what: 'the callback error to be logged',
      },
    );
    expect((await new HttpClient(node.url).get('/ping')).status).toBe(200);
    expect(node.exitCode).toBeNull();
  });
});
