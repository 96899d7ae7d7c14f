import { findRedisServer } from '../../sample/support/redis-binary';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';

describe('test harness: private redis-server', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterAll(async () => {
    await server.dispose();
  });

  it('runs on its own free port without persistence', async () => {
    expect(server.port).not.toBe(6379);
    expect(await server.command('PING')).toBe('PONG');
    expect(await server.command('CONFIG', 'GET', 'save')).toEqual(['save', '']);
    expect(await server.command('CONFIG', 'GET', 'appendonly')).toEqual(['appendonly', 'no']);
  });

  it('restarts on the same port with empty memory', async () => {
    await server.command('SET', 'k', 'v');
    await server.restart();
    expect(await server.command('GET', 'k')).toBeNull();
  });

  it('stops: new connections are refused until it is restarted', async () => {
    await server.stop();
    expect(server.isRunning).toBe(false);
    await expect(server.command('PING')).rejects.toThrow(/ECONNREFUSED|Connection is closed/);
    await server.restart();
    expect(await server.command('PING')).toBe('PONG');
  });

  it('pauses: commands get no answer until it resumes', async () => {
    const client = server.client({ commandTimeout: 200 });
    try {
      await client.ping();
      server.pause();
      await expect(client.ping()).rejects.toThrow(/timed out/i);
      server.resume();
      expect(await client.ping()).toBe('PONG');
    } finally {
      server.resume();
      client.disconnect();
    }
  });

  it('kills Pub/Sub clients only', async () => {
    const subscriber = server.client({ retryStrategy: () => null });
    const plain = server.client();
    try {
      await subscriber.subscribe('chan');
      await plain.ping();
      let closed = false;
      subscriber.once('close', () => (closed = true));

      expect(await server.killPubSubClients()).toBe(1);
      await waitFor(() => closed, { what: 'the subscriber connection to close' });
      expect(await plain.ping()).toBe('PONG');
    } finally {
      subscriber.disconnect();
      plain.disconnect();
    }
  });

  it('says how to install redis-server when it is missing', () => {
    expect(() => findRedisServer('/nonexistent/redis-server')).toThrow(
      /redis-server not found .*apt-get install -y redis-server/,
    );
  });
});
