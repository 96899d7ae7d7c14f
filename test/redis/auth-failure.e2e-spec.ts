import { ClusterSessionModule } from '../../lib';
import { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { resolveOptions } from '../../lib/options/resolve-options';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';
import { TEST_SECRET } from '../support/cluster-fixture';
import { logsOf } from '../support/logs';
import { createApp } from '../http/support/test-app';

describe('#25 a wrong Redis password is named as such', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await RedisServer.start({ args: ['--requirepass', 'the-right-password'] });
  });

  afterAll(async () => {
    await server.dispose();
  });

  const wrongPassword = () => `redis://:a-wrong-password@127.0.0.1:${server.port}`;

  it('in /health', async () => {
    const app = await createApp(
      'express',
      ClusterSessionModule.forRoot({
        secret: TEST_SECRET,
        redis: wrongPassword(),
        cluster: { subscribeTimeout: 500 },
      }),
    );
    try {
      const url = await app.getUrl();
      await waitFor(async () => (await fetch(`${url}/health`)).status === 503, {
        what: '/health to report the failure',
      });
      const health = (await (await fetch(`${url}/health`)).json()) as {
        error: { session: { message: string } };
      };
      expect(health.error.session.message).toMatch(
        /refused this module's credentials \(WRONGPASS.*\): check the password/,
      );
    } finally {
      await app.close();
    }
  });

  it('in the log', async () => {
    const runtime = new ClusterSessionRuntime(
      resolveOptions({
        secret: TEST_SECRET,
        redis: wrongPassword(),
        cluster: { subscribeTimeout: 500 },
      }),
    );
    const logged = await logsOf(async () => {
      await runtime.start().catch(() => undefined);
      await waitFor(async () => runtime.redis.status !== 'connecting', { what: 'a first attempt' });
    });
    await runtime.stop();
    expect(logged.join('\n')).toMatch(/refused this module's credentials \(commands: WRONGPASS/);
    expect(logged.join('\n')).not.toMatch(/is unreachable/);
  });
});
