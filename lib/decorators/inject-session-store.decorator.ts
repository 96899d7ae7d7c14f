import { Inject } from '@nestjs/common';
import { SessionStore } from '../store/session-store';

/**
 * Injects the `SessionStore` (the same as injecting it by type).
 *
 * @example
 * constructor(\@InjectSessionStore() private readonly sessions: SessionStore) {}
 * // then: await this.sessions.destroyAllForUser(userId)
 *
 * @publicApi
 */
export const InjectSessionStore = (): ParameterDecorator => Inject(SessionStore);
