import { join } from 'node:path';
import { HttpClient } from '../http/support/http-client';
import { TEST_SECRET } from '../support/cluster-fixture';
import { RedisServer } from '../support/redis-server';
import { SampleProcess } from '../support/sample-process';
import { waitFor } from '../support/wait-for';

const SCRIPT = join(__dirname, 'crash-app.js');

/** express-session code calling save()/destroy() without a callback: a failure must not kill the node. */
describe('review15: callback-less session API calls', () => {
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
    const r = await c.post('/note', { note: 'x'.repeat(70_000) }).catch((e) => ({ status: String(e) }));
    console.log('note ->', r.status);
    await new Promise((res) => setTimeout(res, 500));
    console.log('exit code', node.exitCode, node.output.slice(-600));
    expect(node.exitCode).toBeNull();
    expect((await new HttpClient(node.url).get('/ping')).status).toBe(200);
  });

  it('req.session.destroy() during a Redis outage does not crash the process', async () => {
    const c = new HttpClient(node.url);
    await c.post('/set');
    expect(c.cookie).toBeDefined();
    await server.stop();
    const r = await c.post('/logout').catch((e) => ({ status: String(e) }));
    console.log('logout ->', r.status);
    await new Promise((res) => setTimeout(res, 500));
    console.log('exit code', node.exitCode, node.output.slice(-600));
    expect(node.exitCode).toBeNull();
    await waitFor(async () => (await new HttpClient(node.url).get('/ping')).status === 200, { timeoutMs: 3000, what: 'ping' });
  });
});
