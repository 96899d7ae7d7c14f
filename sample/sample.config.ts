import { randomBytes, randomUUID } from 'node:crypto';

/** The sample's environment: PORT [3000], REDIS_URL, SESSION_SECRET, NODE_ID, WORKERS [3]. */
export interface SampleEnv {
  port: number;
  workers: number;
  redisUrl?: string;
  sessionSecret?: string;
  nodeId?: string;
}

export function readSampleEnv(env: NodeJS.ProcessEnv = process.env): SampleEnv {
  return {
    port: positiveInteger('PORT', env.PORT, 3000),
    workers: positiveInteger('WORKERS', env.WORKERS, 3),
    redisUrl: env.REDIS_URL || undefined,
    sessionSecret: env.SESSION_SECRET || undefined,
    nodeId: env.NODE_ID || undefined,
  };
}

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function defaultNodeId(): string {
  return `node-${process.pid}-${randomUUID().slice(0, 8)}`;
}

function positiveInteger(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  }
  return value;
}
