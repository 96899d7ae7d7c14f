import { deepFreeze } from '../cache/deep-freeze.util';
import { ClusterSessionError } from '../errors/cluster-session.error';
import type { AppSessionData } from './session-data.interface';
import type { SessionHandle } from './session-handle';

/** What changes a session: refused on a read-only one. */
const CHANGES = new Set<PropertyKey>([
  'set',
  'unset',
  'setUser',
  'save',
  'reload',
  'touch',
  'requestTouch',
  'regenerate',
  'destroy',
  'commit',
  'adopt',
]);

function refuse(what: string): never {
  throw new ClusterSessionError(
    `${what}: the session is read-only here (a WebSocket gateway has no response to commit it ` +
      'with); change it over HTTP',
  );
}

/**
 * A loaded session that can be read, not changed: a WebSocket gateway has no response to carry a
 * cookie or commit a change with, so its session is the one the handshake cookie names, as
 * Redis (or the local cache) holds it when the message arrives. `data` and what `get` returns
 * are a deep-frozen copy; the methods that would change the session, and the cookie's setters,
 * throw.
 */
export function readOnlySession<T extends object = AppSessionData>(
  handle: SessionHandle<T>,
): SessionHandle<T> {
  const data = deepFreeze(structuredClone(handle.data)) as T;
  const cookie = new Proxy(handle.cookie, {
    get: (target, property) => Reflect.get(target, property, target) as unknown,
    set: (_target, property) => refuse(`session.cookie.${String(property)} =`),
  });
  return new Proxy(handle, {
    get(target, property) {
      if (CHANGES.has(property)) {
        return () => refuse(`session.${String(property)}()`);
      }
      if (property === 'data') {
        return data;
      }
      if (property === 'get') {
        return (key: keyof T) => data[key];
      }
      if (property === 'cookie') {
        return cookie;
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
    set: (_target, property) => refuse(`session.${String(property)} =`),
  });
}
