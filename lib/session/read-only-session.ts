import { ClusterSessionError } from '../errors/cluster-session.error';
import type { SessionData } from './session-data.interface';
import type { SessionHandle } from './session-handle';

/** What changes a session: refused on a read-only one. */
const CHANGES = new Set<PropertyKey>([
  'set',
  'unset',
  'setUser',
  'save',
  'touch',
  'requestTouch',
  'regenerate',
  'destroy',
  'commit',
  'adopt',
]);

/**
 * A loaded session that can be read, not changed: a WebSocket gateway has no response to carry a
 * cookie or commit a change with, so its session is the one the handshake cookie names, as
 * Redis (or the local cache) holds it when the message arrives. `data` is a frozen copy; the
 * methods that would change the session throw.
 */
export function readOnlySession<T extends object = SessionData>(
  handle: SessionHandle<T>,
): SessionHandle<T> {
  let data: Readonly<T> | undefined;
  return new Proxy(handle, {
    get(target, property) {
      if (CHANGES.has(property)) {
        return () => {
          throw new ClusterSessionError(
            `session.${String(property)}(): the session is read-only here (a WebSocket gateway has ` +
              'no response to commit it with); change it over HTTP',
          );
        };
      }
      if (property === 'data') return (data ??= Object.freeze({ ...target.data }));
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
}
