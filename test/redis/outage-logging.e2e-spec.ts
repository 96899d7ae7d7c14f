import { Logger, type LoggerService } from '@nestjs/common';
import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { startNode } from '../support/cluster-fixture';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';

/** Every line the module logs, by level. */
class Captured implements LoggerService {
  readonly lines: string[] = [];
  log = (message: unknown) => this.lines.push(`log ${String(message)}`);
  warn = (message: unknown) => this.lines.push(`warn ${String(message)}`);
  error = (message: unknown) => this.lines.push(`error ${String(message)}`);
}

/**
 * #16 item 3: a Redis outage is one clear line when it starts and one when it ends, naming the
 * endpoint, not a stack trace per reconnection attempt.
 */
describe('Redis outage logging', () => {
  let server: RedisServer;
  let node: ClusterSessionRuntime;
  const logger = new Captured();
  const printed: string[] = [];
  let consoleError: jest.SpyInstance;

  beforeAll(async () => {
    Logger.overrideLogger(logger);
    consoleError = jest
      .spyOn(console, 'error')
      .mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')));
    server = await RedisServer.start();
    node = await startNode(server.url, { cluster: { nodeId: 'logged' } });
  });

  afterAll(async () => {
    await node.stop();
    await server.dispose();
    consoleError.mockRestore();
    Logger.overrideLogger(new Logger());
  });

  const outageLines = () => logger.lines.filter((line) => /unreachable|reachable again/.test(line));

  it('logs one line when Redis goes away and one when it is back, naming host and port', async () => {
    let attempts = 0;
    node.redis.on('reconnecting', () => attempts++);
    await server.stop();
    // several reconnection attempts fail meanwhile
    await waitFor(() => attempts >= 4, { timeoutMs: 10_000, what: 'four reconnection attempts' });
    expect(outageLines()).toEqual([
      expect.stringMatching(
        new RegExp(
          `^warn Redis at 127\\.0\\.0\\.1:${server.port} is unreachable \\(commands: .+\\); retrying$`,
        ),
      ),
    ]);
    await server.restart();
    await waitFor(() => outageLines().length === 2, {
      timeoutMs: 10_000,
      what: 'the line for the way back',
    });
    expect(outageLines()[1]).toBe(
      `log Redis at 127.0.0.1:${server.port} is reachable again (commands)`,
    );
    expect(printed.filter((line) => line.includes('Unhandled error event'))).toEqual([]);
  });

  it('a clean stop is not an outage: it logs no "unreachable" line', async () => {
    const stopping = await startNode(server.url, { cluster: { nodeId: 'stopping' } });
    const before = logger.lines.length;
    await stopping.stop();
    expect(logger.lines.slice(before).filter((line) => /unreachable/.test(line))).toEqual([]);
  });
});
