import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { type RedisOptions } from 'ioredis';
import { freePort } from './free-port';
import { findRedisServer } from './redis-binary';
import { waitFor } from './wait-for';

export interface RedisServerOptions {
  /** Port to listen on; a free one when omitted. */
  port?: number;
  /** Extra `redis-server` arguments, e.g. `['--maxmemory', '10mb']`. */
  args?: string[];
  /** Runs a Sentinel instead, with these lines in its (rewritable) configuration file. */
  sentinel?: string[];
  /**
   * In its own process group, so that a Ctrl-C in the terminal reaches only its owner, which
   * stops it after whatever still uses it (the sample's workers).
   */
  detached?: boolean;
}

const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/**
 * A private `redis-server` for tests, benchmarks and the sample: free port, no persistence, and
 * the faults later suites inject (stop, restart, pause, killing Pub/Sub clients).
 */
export class RedisServer {
  private child?: ChildProcess;
  private paused = false;
  private readonly dir = mkdtempSync(join(tmpdir(), 'ncs-redis-'));

  private constructor(
    readonly port: number,
    private readonly bin: string,
    private readonly args: string[],
    private readonly sentinel?: string[],
    private readonly detached = false,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const bin = findRedisServer();
    for (let attempt = 1; ; attempt++) {
      const port = options.port ?? (await freePort());
      const server = new RedisServer(
        port,
        bin,
        options.args ?? [],
        options.sentinel,
        options.detached,
      );
      try {
        await server.launch();
        return server;
      } catch (error) {
        // Another process may have taken the free port between the probe and the launch.
        server.removeDir();
        if (options.port !== undefined || attempt >= 5) {
          throw error;
        }
      }
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isRunning(): boolean {
    return this.child !== undefined;
  }

  /**
   * A new ioredis client for this server; the caller closes it. `disconnectTimeout` is short
   * because ioredis arms that timer even when disconnecting an already-closed socket, which
   * would keep Jest alive after a fault test.
   */
  client(options: RedisOptions = {}): Redis {
    return new Redis(this.port, '127.0.0.1', {
      maxRetriesPerRequest: 1,
      disconnectTimeout: 50,
      ...options,
    });
  }

  /** Runs one command on a short-lived connection. */
  async command(name: string, ...args: (string | number)[]): Promise<unknown> {
    const client = this.client({ lazyConnect: true, retryStrategy: () => null });
    try {
      await client.connect();
      return await client.call(name, ...args);
    } finally {
      client.disconnect();
    }
  }

  /** Closes every Pub/Sub connection (`CLIENT KILL TYPE pubsub`); resolves to how many. */
  async killPubSubClients(): Promise<number> {
    return Number(await this.command('CLIENT', 'KILL', 'TYPE', 'pubsub'));
  }

  /** Freezes the server process (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void {
    if (!this.child || this.paused) {
      return;
    }
    this.child.kill('SIGSTOP');
    this.paused = true;
  }

  /** Lets a paused server run again (SIGCONT). */
  resume(): void {
    if (!this.child || !this.paused) {
      return;
    }
    this.child.kill('SIGCONT');
    this.paused = false;
  }

  /** Stops the server and waits for it to exit; the port is free afterwards. Idempotent. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) {
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.resume();
    child.kill('SIGKILL');
    await exited;
  }

  /** Stops and starts again on the same port, with empty memory (nothing is persisted). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Stops the server and removes its working directory. */
  async dispose(): Promise<void> {
    await this.stop();
    this.removeDir();
  }

  /** The working directory: Cluster and Sentinel keep their state files here. */
  get directory(): string {
    return this.dir;
  }

  private launchArgs(): string[] {
    const common = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir];
    if (!this.sentinel) {
      return [...common, '--save', '', '--appendonly', 'no', '--loglevel', 'warning', ...this.args];
    }
    // Sentinel rewrites its configuration file: written once, kept across restarts
    const config = join(this.dir, 'sentinel.conf');
    if (!existsSync(config)) {
      writeFileSync(config, `${this.sentinel.join('\n')}\n`);
    }
    return [config, '--sentinel', ...common, '--loglevel', 'warning', ...this.args];
  }

  private async launch(): Promise<void> {
    const child = spawn(this.bin, this.launchArgs(), {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: this.detached,
    });
    let output = '';
    const collect = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2_000));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let exitCode: number | null | undefined;
    child.once('exit', (code) => {
      exitCode = code;
      running.delete(child);
      if (this.child === child) {
        this.child = undefined;
      }
      this.paused = false;
    });
    this.child = child;
    running.add(child);
    try {
      await waitFor(
        () => {
          if (exitCode !== undefined) {
            throw new Error(`redis-server exited (${exitCode}): ${output.trim()}`);
          }
          return ping(this.port);
        },
        { timeoutMs: 10_000, intervalMs: 10, what: `redis-server on port ${this.port}` },
      );
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  private removeDir(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    // any RESP reply means the server is up; a password-protected one answers -NOAUTH
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}
