import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import type { NodeMessage, NodeRequest } from './cluster-node.protocol';

// this file runs from test/support (ts-jest) or from dist/test/support (benchmarks)
const ROOT = join(
  __dirname,
  ...(__dirname.includes(`${sep}dist${sep}`) ? ['..', '..', '..'] : ['..', '..']),
);
const SCRIPT = join(ROOT, 'dist', 'test', 'support', 'cluster-node.js');

/** A cluster node running in its own Node process (the built `cluster-node.js`). */
export class NodeProcess {
  private seq = 0;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();

  private constructor(
    private readonly child: ChildProcess,
    readonly nodeId: string,
  ) {
    child.on('message', (message: NodeMessage) => {
      if (message.type !== 'reply') {
        return;
      }
      const waiter = this.pending.get(message.seq);
      this.pending.delete(message.seq);
      if (message.ok) {
        waiter?.resolve(message.result);
      } else {
        waiter?.reject(new Error(message.error));
      }
    });
  }

  static async start(
    redisUrl: string,
    nodeId: string,
    localCacheTtl?: number,
  ): Promise<NodeProcess> {
    if (!existsSync(SCRIPT)) {
      throw new Error(`${SCRIPT} is missing: run "npm run build" (npm test does it first)`);
    }
    const args = [redisUrl, nodeId, ...(localCacheTtl ? [String(localCacheTtl)] : [])];
    const child = fork(SCRIPT, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      child.once('message', (message: NodeMessage) =>
        message.type === 'ready' ? resolve() : reject(new Error('unexpected message')),
      );
      child.once('exit', (code) =>
        reject(new Error(`node ${nodeId} exited with ${code} before it was ready`)),
      );
    });
    return new NodeProcess(child, nodeId);
  }

  request<R>(request: NodeRequest): Promise<R> {
    const seq = ++this.seq;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ seq, request });
    });
  }

  /** Disconnects IPC; the node stops its store and exits. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) {
      return;
    }
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    await exited;
  }
}
