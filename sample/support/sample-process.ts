import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { freePort } from './free-port';
import { waitFor } from './wait-for';

const ROOT = join(
  __dirname,
  ...(__dirname.includes(`${sep}dist${sep}`) ? ['..', '..', '..'] : ['..', '..']),
);
const MAIN = join(ROOT, 'dist', 'sample', 'main.js');

/** A built script of this repository, e.g. `distScript('bench', 'peers', 'peer.main.js')`. */
export function distScript(...path: string[]): string {
  return join(ROOT, 'dist', ...path);
}

/** One sample process (`node dist/sample/main.js`), by default a single node on a free port. */
export class SampleProcess {
  output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    const collect = (chunk: Buffer) =>
      (this.output = (this.output + chunk.toString()).slice(-20_000));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
  }

  /**
   * Starts `script` (default: the sample) and waits until it answers `/health` (`ready:
   * 'health'`), prints "listening" (`'listening'`), or not at all (`'none'`).
   */
  static async start(
    env: Record<string, string>,
    options: { ready?: 'health' | 'listening' | 'none'; script?: string } = {},
  ): Promise<SampleProcess> {
    const script = options.script ?? MAIN;
    if (!existsSync(script)) {
      throw new Error(`${script} is missing: run "npm run build" (npm test does it first)`);
    }
    for (let attempt = 1; ; attempt++) {
      const port = env.PORT ? Number(env.PORT) : await freePort();
      try {
        return await SampleProcess.launch(env, port, script, options.ready ?? 'health');
      } catch (error) {
        // Another process may have taken the free port between the probe and the listen.
        const taken = error instanceof Error && error.message.includes('EADDRINUSE');
        if (!taken || env.PORT || attempt >= 5) {
          throw error;
        }
      }
    }
  }

  private static async launch(
    env: Record<string, string>,
    port: number,
    script: string,
    ready: 'health' | 'listening' | 'none',
  ): Promise<SampleProcess> {
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, WORKERS: '1', ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sample = new SampleProcess(child, port);
    if (ready === 'none') {
      return sample;
    }
    // An exit before ready fails at once (not at the deadline), with what the process printed.
    const exited = new Promise<never>((_, reject) =>
      child.once('close', (code) =>
        reject(new Error(`${script} exited (${code}) before it was ready: ${sample.output}`)),
      ),
    );
    const isReady =
      ready === 'listening'
        ? () => sample.output.includes('listening')
        : async () => (await fetch(`${sample.url}/health`).catch(() => undefined))?.status === 200;
    try {
      await Promise.race([
        exited,
        waitFor(isReady, { timeoutMs: 20_000, intervalMs: 20, what: `${script} on port ${port}` }),
      ]);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return sample;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get exitCode(): number | null {
    return this.child.exitCode;
  }

  /** Sends `signal` and waits for the process to exit; resolves to its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return this.child.exitCode;
    }
    const exited = new Promise<number | null>((resolve) =>
      this.child.once('exit', (code) => resolve(code)),
    );
    this.child.kill(signal);
    return exited;
  }
}
