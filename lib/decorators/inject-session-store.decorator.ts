import { Inject } from '@nestjs/common';
import { SessionStore } from '../store/session-store';

/** Injects the `SessionStore` (the same as injecting it by type). */
export const InjectSessionStore = (): ParameterDecorator => Inject(SessionStore);
