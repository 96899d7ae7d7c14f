import type { Cluster, Redis } from 'ioredis';
import { commandTimeoutOf } from './command-deadline';
import { OperationIds, retryOf, type Operation } from './operation';

/** How long a write whose reply was lost is retried when the client names no command timeout, ms. */
const DEFAULT_RETRY_WINDOW_MS = 2_000;

/**
 * A write whose reply never arrived, even after retrying: it took effect once or not at all,
 * and nothing will tell which. (The request answers 503; the next one reads Redis.)
 */
export class ReplyLostError extends Error {
  constructor(
    reason: string,
    override readonly cause?: unknown,
  ) {
    super(`the outcome of a write is unknown: ${reason}`);
  }
}

/**
 * Sends the session scripts' writes so that each takes effect at most once, and the caller
 * learns its outcome whenever Redis can still tell it (G11).
 *
 * The connections this module opens never resend a command by themselves
 * (`autoResendUnfulfilledCommands: false`; the commands in flight when one closes are rejected,
 * see settleDroppedCommands). When a write's reply is lost (the connection closes while it is in
 * flight, or it times out), it is sent again as a retry of the same operation,
 * once the connection is back, for up to the client's command timeout. The script recognises an
 * operation that already ran (see the prelude) and answers as that run did, writing and
 * publishing nothing. On a client that does resend (a user's own instance), its resend is one
 * more run of the same operation, and as harmless.
 */
export class LostReplies {
  private readonly ids = new OperationIds();
  /** How long after its reply is lost a write is retried, ms (the client's command timeout). */
  readonly retryWindow: number;

  constructor(private readonly client: Redis | Cluster) {
    this.retryWindow = commandTimeoutOf(client) ?? DEFAULT_RETRY_WINDOW_MS;
  }

  /**
   * Runs `write` for a new operation; when its reply is lost, runs it again as a retry of that
   * operation. Rejects with {@link ReplyLostError} when no reply came within the window, or
   * with the error of a write that did not run (not connected, a Redis error reply).
   */
  async send<R>(write: (op: Operation) => Promise<R>): Promise<R> {
    const first = this.ids.next();
    let op = first;
    let lostAt: number | undefined;
    for (;;) {
      try {
        return await write(op);
      } catch (error) {
        if (!isLostReply(error)) {
          throw error;
        }
        lostAt ??= Date.now();
        const left = lostAt + this.retryWindow - Date.now();
        if (left <= 0 || !(await this.ready(left))) {
          throw new ReplyLostError(
            `no reply, and Redis could not be asked again within ${this.retryWindow} ms (${(error as Error).message})`,
            error,
          );
        }
        op = retryOf(first);
      }
    }
  }

  /** Waits until the connection is ready, for up to `ms`; false when it was not. */
  private ready(ms: number): Promise<boolean> {
    if (this.client.status === 'ready') {
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const done = (ready: boolean) => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        resolve(ready);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      this.client.on('ready', onReady);
    });
  }
}

/** Errors after which a command may or may not have run. */
function isLostReply(error: unknown): boolean {
  if (!(error instanceof Error)) {
    return false;
  }
  return (
    error.message.startsWith('Command timed out') ||
    error.message === 'Connection is closed.' ||
    error.name === 'MaxRetriesPerRequestError'
  );
}
