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
    { ready = 'health' as 'health' | 'listening' | 'none', script = MAIN } = {},
  ): Promise<SampleProcess> {
    if (!existsSync(script)) {
      throw new Error(`${script} is missing: run "npm run build" (npm test does it first)`);
    }
    const port = env.PORT ? Number(env.PORT) : await freePort();
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, WORKERS: '1', ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sample = new SampleProcess(child, port);
    if (ready === 'listening') {
      await waitFor(
        () => {
          if (child.exitCode !== null)
            throw new Error(`process exited (${child.exitCode}): ${sample.output}`);
          return sample.output.includes('listening');
        },
        { timeoutMs: 20_000, intervalMs: 20, what: `${script} on port ${port}` },
      );
    }
    if (ready === 'health') {
      await waitFor(
        async () => {
          if (child.exitCode !== null)
            throw new Error(`sample exited (${child.exitCode}): ${sample.output}`);
          return (await fetch(`${sample.url}/health`).catch(() => undefined))?.status === 200;
        },
        { timeoutMs: 20_000, intervalMs: 50, what: `the sample on port ${port}` },
      );
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
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) =>
      this.child.once('exit', (code) => resolve(code)),
    );
    this.child.kill(signal);
    return exited;
  }
}
