import 'reflect-metadata';
import cluster from 'node:cluster';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { RedisServer } from './support/redis-server';
import { AppModule } from './app.module';
import { defaultNodeId, generateSecret, readSampleEnv } from './sample.config';

/**
 * `npm start`: WORKERS node processes sharing PORT (node:cluster), each with its own local cache.
 * Without REDIS_URL a private redis-server is started for the run and stopped on exit; without
 * SESSION_SECRET one is generated and shared with the workers. WORKERS=1 runs one node alone.
 */
async function primary(): Promise<void> {
  const env = readSampleEnv();
  let stopping = false;
  let stopSingle: (() => Promise<void>) | undefined;
  let privateRedis: Promise<RedisServer | undefined> = Promise.resolve(undefined);
  const shutdown = async (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    console.log(`[sample] ${signal}: shutting down`);
    await Promise.all(
      Object.values(cluster.workers ?? {}).map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (!worker || worker.isDead()) {
              return resolve();
            }
            worker.once('exit', () => resolve());
            worker.kill('SIGTERM');
          }),
      ),
    );
    await stopSingle?.();
    // a redis-server still starting is waited for, then stopped: it is in its own process group
    await (await privateRedis.catch(() => undefined))?.dispose();
    process.exit(0);
  };
  // Installed before anything is started, so that no signal finds the default action (which
  // would leave the private redis-server running). `on`, not `once`: a Ctrl-C reaches this
  // process twice (from the terminal and forwarded by npm).
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  if (!env.redisUrl) {
    privateRedis = RedisServer.start({ detached: true });
    env.redisUrl = (await privateRedis)!.url;
    if (stopping) {
      return;
    }
    console.log(`[sample] REDIS_URL is not set: started a private redis-server at ${env.redisUrl}`);
  }
  if (!env.sessionSecret) {
    env.sessionSecret = generateSecret();
    console.log(
      '[sample] SESSION_SECRET is not set: generated one for this run and shared it with the workers',
    );
  }
  const shared = {
    REDIS_URL: env.redisUrl,
    SESSION_SECRET: env.sessionSecret,
    PORT: String(env.port),
  };

  if (env.workers === 1) {
    Object.assign(process.env, shared, { NODE_ID: env.nodeId ?? defaultNodeId() });
    stopSingle = await worker();
    return;
  }
  for (let i = 1; i <= env.workers; i++) {
    cluster.fork({ ...shared, NODE_ID: `${env.nodeId ?? 'node'}-${i}` });
  }
  cluster.on('exit', (w, code, signal) => {
    if (!stopping) {
      console.error(`[sample] worker ${w.process.pid} exited (${signal ?? code})`);
    }
  });
}

/** One node: the Nest application on PORT. Returns a function that closes it. */
async function worker(): Promise<() => Promise<void>> {
  const env = readSampleEnv();
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  // every response, errors and 404s included, names the node that served it (a plain Express
  // middleware: Nest's middleware layer would cost more per request than setting the header)
  const nodeId = process.env.NODE_ID ?? 'node';
  app.use((_req: IncomingMessage, res: ServerResponse, next: () => void) => {
    res.setHeader('X-Node-Id', nodeId);
    next();
  });
  if (cluster.isWorker) {
    app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  }
  await app.listen(env.port);
  console.log(
    `[sample] ${process.env.NODE_ID} (pid ${process.pid}) listening on http://localhost:${env.port}`,
  );
  return () => app.close();
}

const run = cluster.isPrimary ? primary() : worker();
run.catch((error: unknown) => {
  console.error(`[sample] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
