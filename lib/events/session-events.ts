import { Logger } from '@nestjs/common';
import {
  Observable,
  Subject,
  Subscriber,
  type Observer,
  type OperatorFunction,
  type Subscription,
} from 'rxjs';

/**
 * Why a session ended: `'logout'` (`destroy()`, `req.logout`, `req.session.destroy`),
 * `'logout-all'` (`destroyAllForUser`), `'revoked'` (`destroyForUser`: ended from the device
 * list), `'limit'` (`maxSessionsPerUser` ended it, or refused the login made in it),
 * `'regenerated'` (a login replaced it: the session goes on under a new id, or, with
 * express-session's `regenerate`, a new one starts).
 *
 * @publicApi
 */
export type SessionEndReason = 'logout' | 'logout-all' | 'revoked' | 'limit' | 'regenerated';

/**
 * Something that happened to a session, on the node that did it (`nodeId`).
 *
 * @publicApi
 */
export interface SessionEvent {
  type: 'created' | 'owner-set' | 'destroyed' | 'expired';
  /** The session's id: a credential, never log it as it is. */
  id: string;
  /** Its owner, where known: `owner-set`, and `destroyed` by `*ForUser` calls and the limit. */
  userId?: string;
  /** Why it was destroyed (`destroyed` only). */
  reason?: SessionEndReason;
  /** The node that made the change, or that Redis told of an expiry. */
  nodeId: string;
}

const logger = new Logger('SessionEvents');

function report(error: unknown): void {
  logger.error(
    `a SessionEvents subscriber failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
}

/**
 * The observer given, made harmless: what it throws is logged, and an error of its chain (an
 * operator that threw) is logged when it has no error handler of its own. (RxJS would rethrow
 * either outside any call stack, which ends the process: a bug in an audit log must not take
 * the node down in the middle of a login.)
 */
function guarded<T>(
  observer?: Partial<Observer<T>> | ((value: T) => void) | null,
): Partial<Observer<T>> {
  const given: Partial<Observer<T>> =
    typeof observer === 'function' ? { next: observer } : (observer ?? {});
  const safely =
    <A extends unknown[]>(call: ((...args: A) => void) | undefined) =>
    (...args: A): void => {
      try {
        call?.(...args);
      } catch (error) {
        report(error);
      }
    };
  return {
    next: safely(given.next?.bind(given)),
    error: given.error ? safely(given.error.bind(given)) : report,
    complete: safely(given.complete?.bind(given)),
  };
}

/** An Observable whose subscribers, and those of what it is piped into, are guarded. */
class GuardedObservable<T> extends Observable<T> {
  override subscribe(observer?: Partial<Observer<T>> | ((value: T) => void) | null): Subscription {
    // an operator's own subscriber (a `pipe` of this stream) forwards errors down its chain, to
    // the guarded end of it; wrapped, it would no longer be unsubscribed with its chain
    return super.subscribe(observer instanceof Subscriber ? observer : guarded(observer));
  }

  // (Observable's overloads, typed as they are; `any` is theirs)
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override pipe(...operations: OperatorFunction<any, any>[]): Observable<any> {
    const piped = operations.reduce<Observable<unknown>>(
      (source, operation) => operation(source) as Observable<unknown>,
      this as Observable<unknown>,
    );
    return new GuardedObservable((subscriber) => piped.subscribe(subscriber));
  }
}

/**
 * The session events of this node: an RxJS stream (inject `SessionEvents`, then `subscribe`,
 * `pipe(filter(...))`), as Nest's own streams (CQRS's `EventBus`) are. Each node reports what it
 * does itself; `expired` comes from Redis keyspace notifications, when `events.expired` is on
 * (every node subscribed reports each expiry). Delivery is in process and synchronous with the
 * change, after it succeeded. A subscriber that throws (in its callback, or in an operator of
 * its `pipe`) is logged and never affects the session, nor the process.
 *
 * @publicApi
 */
export class SessionEvents extends GuardedObservable<SessionEvent> {
  private readonly subject: Subject<SessionEvent>;

  constructor(readonly nodeId: string) {
    const subject = new Subject<SessionEvent>();
    super((subscriber) => subject.subscribe(subscriber));
    this.subject = subject;
  }

  /** Reports an event (called by the store). */
  emit(event: Omit<SessionEvent, 'nodeId'>): void {
    if (this.subject.observed) {
      this.subject.next({ ...event, nodeId: this.nodeId });
    }
  }

  /** Ends every subscription (module shutdown). */
  complete(): void {
    this.subject.complete();
  }
}
