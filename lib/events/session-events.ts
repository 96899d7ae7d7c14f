import { Observable, Subject } from 'rxjs';

/**
 * Why a session ended: `'logout'` (`destroy()`, `req.logout`, `req.session.destroy`),
 * `'logout-all'` (`destroyAllForUser`), `'revoked'` (`destroyForUser`: ended from the device
 * list), `'limit'` (`maxSessionsPerUser` ended it), `'regenerated'` (its id was replaced: the
 * session goes on under a new one).
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

/**
 * The session events of this node: an RxJS stream (inject `SessionEvents`, then
 * `subscribe`, `pipe(filter(...))`), as Nest's own streams (CQRS's `EventBus`) are. Each node
 * reports what it does itself; `expired` comes from Redis keyspace notifications, when
 * `events.expired` is on. Delivery is in process and synchronous with the change, after it
 * succeeded; a subscriber that throws does not affect the session (the error goes where RxJS
 * sends unhandled errors: `config.onUnhandledError`).
 *
 * @publicApi
 */
export class SessionEvents extends Observable<SessionEvent> {
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
