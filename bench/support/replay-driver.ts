import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pin } from './pin';
import type { Recording } from './recording-proxy';

const SOURCE = join(__dirname, '..', '..', '..', 'bench', 'driver', 'replay.c');
const BINARY = join(__dirname, '..', 'driver', 'replay');

/** What the C driver measured during its window. */
export interface ReplayResult {
  /** Replies to the recorded commands (each one command executed). */
  replies: number;
  /**
   * Seconds of the window, and of it on a CPU or runnable but waiting for one (another process
   * had it): Redis's (all threads) and the driver's.
   */
  wall: number;
  redisCpu: number;
  redisWait: number;
  driverCpu: number;
  driverWait: number;
  /** Pub/Sub messages the subscribers received. */
  messages: number;
  /** Error replies over the whole run (warm-up included), NOSCRIPT among them, and the first. */
  errors: number;
  noscript: number;
  firstError: string;
}

export interface ReplayOptions {
  port: number;
  redisPid: number;
  connections: number;
  /** Commands in flight per connection. */
  depth: number;
  warmupSeconds: number;
  seconds: number;
}

/** bench/driver/replay.c compiled with `cc -O2` into dist/, when absent or older than its source. */
export function driverBinary(): string {
  if (!existsSync(BINARY) || statSync(BINARY).mtimeMs < statSync(SOURCE).mtimeMs) {
    mkdirSync(join(BINARY, '..'), { recursive: true });
    try {
      execFileSync('cc', ['-O2', '-o', BINARY, SOURCE], { stdio: 'inherit' });
    } catch (error) {
      throw new Error(
        `compiling ${SOURCE} with cc failed (${(error as Error).message}): the saturation benchmark ` +
          'needs a C compiler (Debian/Ubuntu: apt-get install gcc)',
      );
    }
  }
  return BINARY;
}

/** A recording written out for the driver: one file per command stream. `dispose()` removes them. */
export class RecordingFiles {
  readonly dir = mkdtempSync(join(tmpdir(), 'ncs-replay-'));
  readonly streams: string[];
  readonly subscribe: string;

  constructor(readonly recording: Recording) {
    this.streams = recording.streams.map((stream, i) => {
      const file = join(this.dir, `stream-${i}.resp`);
      writeFileSync(file, stream);
      return file;
    });
    this.subscribe = recording.subscribe ? join(this.dir, 'subscribe.resp') : '-';
    if (recording.subscribe) {
      writeFileSync(this.subscribe, recording.subscribe);
    }
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Runs the driver against one redis-server: the recorded streams over `connections`
 * connections, `depth` commands in flight on each, and one subscriber per recorded one. The
 * driver goes on CPU 0, away from Redis.
 */
export async function replay(files: RecordingFiles, options: ReplayOptions): Promise<ReplayResult> {
  const { recording } = files;
  const args = [
    options.port,
    options.redisPid,
    options.connections,
    options.depth,
    options.warmupSeconds,
    options.seconds,
    recording.protocol,
    files.subscribe,
    recording.subscribers,
    ...files.streams,
  ].map(String);
  const child = spawn(driverBinary(), args, { stdio: ['ignore', 'pipe', 'inherit'] });
  pin(child.pid, 0); // before its warm-up ends
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) {
    throw new Error(`replay driver exited with ${code}: ${out}`);
  }
  return JSON.parse(out) as ReplayResult;
}
