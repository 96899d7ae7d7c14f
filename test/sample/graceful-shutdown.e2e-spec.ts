import { HttpClient } from '../http/support/http-client';
import { RedisServer } from '../../sample/support/redis-server';
import { SampleProcess } from '../../sample/support/sample-process';
import { TcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../../sample/support/wait-for';

const SECRET = 'shutdown-secret-of-at-least-32-characters';

describe('graceful shutdown: SIGTERM while commits are in flight', () => {
  it('finishes the in-flight commits, answers them, then closes; nothing acknowledged is lost', async () => {
    const redis = await RedisServer.start();
    const proxy = await TcpProxy.start(redis.port);
    const sample = await SampleProcess.start({
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      SESSION_SECRET: SECRET,
      NODE_ID: 'stopping',
    });
    try {
      const clients = [0, 1, 2].map(() => new HttpClient(sample.url));
      for (const [i, client] of clients.entries()) {
        await client.post('/login', { username: `u${i}` });
      }

      proxy.hold(); // the commits' replies from Redis are held: they stay in flight
      const visits = clients.map((client) => client.post('/visit'));
      await waitFor(() => proxy.heldBytes > 0, { what: 'commits in flight' });
      const exited = sample.stop('SIGTERM');
      await waitFor(() => sample.output.includes('SIGTERM: shutting down'), {
        what: 'the shutdown to begin',
      });
      proxy.release();

      for (const response of await Promise.all(visits)) {
        expect(response.status).toBe(200);
        expect(response.json).toEqual({ visits: 1 });
      }
      expect(await exited).toBe(0);
      // acknowledged, so in Redis
      const direct = redis.client();
      try {
        const keys = await direct.keys('sess:{*');
        const stored = await Promise.all(keys.map((key) => direct.hget(key, 'd:visits')));
        expect(stored.sort()).toEqual(['1', '1', '1']);
      } finally {
        direct.disconnect();
      }
    } finally {
      await sample.stop('SIGKILL');
      await proxy.close();
      await redis.dispose();
    }
  });
});
