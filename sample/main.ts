import 'reflect-metadata';
import cluster from 'node:cluster';
import { NestFactory } from '@nestjs/core';
import { RedisServer } from '../test/support/redis-server';
import { AppModule } from './app.module';
import { defaultNodeId, generateSecret, readSampleEnv } from './sample.config';

/**
 * `npm start`: WORKERS processes sharing PORT (node:cluster), each with its own local cache.
 * Without REDIS_URL a private redis-server is started for the run; without SESSION_SECRET one is
 * generated and shared with the workers.
 */
async function primary(): Promise<void> {
  const env = readSampleEnv();
  let privateRedis: RedisServer | undefined;
  if (!env.redisUrl) {
    privateRedis = await RedisServer.start();
    env.redisUrl = privateRedis.url;
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

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[sample] ${signal}: stopping workers`);
    await Promise.all(
      Object.values(cluster.workers ?? {}).map(
        (worker) =>
          new Promise<void>((resolve) =>
            worker ? worker.once('exit', () => resolve()).kill('SIGTERM') : resolve(),
          ),
      ),
    );
    await stopApp?.();
    await privateRedis?.dispose();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  let stopApp: (() => Promise<void>) | undefined;
  if (env.workers === 1) {
    Object.assign(process.env, shared);
    stopApp = await worker();
    return;
  }
  for (let i = 1; i <= env.workers; i++) {
    cluster.fork({ ...shared, NODE_ID: env.nodeId ? `${env.nodeId}-${i}` : `node-${i}` });
  }
  cluster.on('exit', (w, code, signal) => {
    if (!stopping) console.error(`[sample] worker ${w.process.pid} exited (${signal ?? code})`);
  });
}

/** One node: a Nest application on PORT. Returns a function that closes it. */
async function worker(): Promise<() => Promise<void>> {
  const env = readSampleEnv();
  const nodeId = env.nodeId ?? defaultNodeId();
  const app = await NestFactory.create(
    AppModule.forNode(nodeId, env.redisUrl ?? 'redis://127.0.0.1:6379'),
    {
      logger: ['error', 'warn'],
    },
  );
  app.enableShutdownHooks();
  await app.listen(env.port);
  console.log(`[sample] ${nodeId} (pid ${process.pid}) listening on http://localhost:${env.port}`);
  return () => app.close();
}

const run = cluster.isPrimary ? primary() : worker();
run.catch((error: unknown) => {
  console.error(`[sample] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
