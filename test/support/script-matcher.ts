import { createHash } from 'node:crypto';
import { SESSION_SCRIPTS } from '../../lib/redis/session-commands';
import type { CommandMatcher } from './tcp-proxy';

/** The session scripts by their short names (`clusterSession<Name>`). */
export type SessionScript =
  | 'Read'
  | 'Create'
  | 'Update'
  | 'Touch'
  | 'Destroy'
  | 'Regenerate'
  | 'IndexAdd'
  | 'IndexList'
  | 'IndexRemove'
  | 'Unlock'
  | 'Publish'
  | 'ClaimLegacy';

/** Matches a call of the named session script (EVALSHA, or EVAL after a NOSCRIPT). */
export function script(name: SessionScript): CommandMatcher {
  const lua = SESSION_SCRIPTS[`clusterSession${name}`];
  if (lua === undefined) {
    throw new Error(`no session script ${name}`);
  }
  const sha = createHash('sha1').update(lua).digest('hex');
  return ([command, body]) =>
    (/^evalsha$/i.test(command) && body === sha) || (/^eval$/i.test(command) && body === lua);
}

/**
 * Matches a session read: the `HGETALL` of its `MULTI` … `EXEC` (no script reads a hash from a
 * client). Its reply ("QUEUED") comes before the transaction's, so a fault on it reaches the
 * whole read: a delayed or dropped reply, or a read that never reaches Redis.
 */
export function sessionRead(): CommandMatcher {
  return ([command]) => /^hgetall$/i.test(command);
}
