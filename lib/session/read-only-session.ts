import { deepFreeze } from '../cache/deep-freeze.util';
import { ClusterSessionError } from '../errors/cluster-session.error';
import type { AppSessionData } from './session-data.interface';
import type { SessionHandle } from './session-handle';

/** What changes a session: each throws on a read-only one. */
const CHANGES = [
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
  'load',
] as const;

/** The cookie's attributes and lifetime, as they read when the message arrived. */
const COOKIE_MEMBERS = [
  'path',
  'domain',
  'httpOnly',
  'secure',
  'sameSite',
  'originalMaxAge',
  'expires',
  'maxAge',
] as const;

function refuse(what: string): never {
  throw new ClusterSessionError(
    `${what}: the session is read-only here (a WebSocket gateway has no response to commit it ` +
      'with); change it over HTTP',
  );
}

/** A plain object that answers only its own members, and refuses every assignment. */
function sealed<V extends object>(view: V, name: string): V {
  return new Proxy(Object.freeze(view), {
    set: (_target, property) => refuse(`${name}.${String(property)} =`),
    defineProperty: (_target, property) => refuse(`${name}.${String(property)} =`),
    deleteProperty: (_target, property) => refuse(`delete ${name}.${String(property)}`),
  });
}

/**
 * A loaded session that can be read, not changed: a WebSocket gateway has no response to carry a
 * cookie or commit a change with, so its session is the one the handshake cookie names, as
 * Redis (or the local cache) holds it when the message arrives. An allow-list, not a wrapper of
 * the handle: `id`, `data` and what `get` returns (a deep-frozen copy), `isNew`, `isLoaded`,
 * `isModified`, `userId` and `cookie` (its values, frozen); the methods that would change the
 * session throw, and nothing else of the handle (its store, its internals) is reachable.
 */
export function readOnlySession<T extends object = AppSessionData>(
  handle: SessionHandle<T>,
): SessionHandle<T> {
  const data = deepFreeze(structuredClone(handle.data)) as T;
  const values = Object.fromEntries(
    COOKIE_MEMBERS.map((member) => [member, handle.cookie[member]]),
  );
  const expires = values.expires as Date | null;
  const cookie = sealed(
    Object.defineProperty(values, 'expires', {
      get: () => expires && new Date(expires), // a Date of its own each time: nothing to change
      enumerable: true,
    }),
    'session.cookie',
  );
  const { id, isNew, userId } = handle;
  const view = {
    id,
    data,
    get: (key: keyof T) => data[key],
    isNew,
    isLoaded: true,
    isModified: false,
    userId,
    cookie,
    ...Object.fromEntries(CHANGES.map((method) => [method, () => refuse(`session.${method}()`)])),
  };
  return sealed(view, 'session') as unknown as SessionHandle<T>;
}
