import { randomBytes } from 'node:crypto';
import { OP_WIDTH } from './scripts/prelude.lua';

/**
 * One attempt of a write, as the scripts know it (see the prelude): an id, and whether this run
 * is a retry of an attempt whose reply was lost. Retries of one attempt share its id, so the
 * script can tell that an earlier run already did the work (G11).
 */
export interface Operation {
  readonly id: string;
  readonly retry: boolean;
}

const COUNTER_WIDTH = 5;
const COUNTER_SPAN = 36 ** COUNTER_WIDTH;

/**
 * Operation ids of one process: a random prefix, then a counter, {@link OP_WIDTH} characters in
 * all. They only need to differ among the writes to one session within a retry's reach (a few
 * seconds, the last few versions): the counter wraps after some sixty million writes, and two
 * processes share a prefix with odds of one in a billion.
 */
export class OperationIds {
  private readonly prefix = randomBytes(8)
    .toString('base64url')
    .slice(0, OP_WIDTH - COUNTER_WIDTH);
  private count = Math.floor(Math.random() * COUNTER_SPAN);

  /** A new operation's first attempt. */
  next(): Operation {
    this.count = (this.count + 1) % COUNTER_SPAN;
    return { id: this.prefix + this.count.toString(36).padStart(COUNTER_WIDTH, '0'), retry: false };
  }
}

/** The same operation sent again after its reply was lost. */
export function retryOf(operation: Operation): Operation {
  return { id: operation.id, retry: true };
}
