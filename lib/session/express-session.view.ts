import { ClusterSessionError } from '../errors/cluster-session.error';
import type { SessionData } from './session-data.interface';
import type { SessionCookie } from './session-cookie';
import { SessionHandle } from './session-handle';

type Callback = (error?: unknown) => void;

/**
 * What `req.session` offers besides the data keys: express-session's documented API (callbacks or
 * promises) and the typed handle's methods. Every other name is a data key, `userId` included
 * (express-session code often stores one; the per-user index owner is `setUser()`).
 */
export interface ExpressSessionApi {
  readonly id: string;
  /** `maxAge`, `expires`, `originalMaxAge` and the attributes; set `maxAge` for "remember me". */
  readonly cookie: SessionCookie;
  regenerate(callback?: Callback): unknown;
  save(callback?: Callback): unknown;
  destroy(callback?: Callback): unknown;
  reload(callback?: Callback): unknown;
  touch(): unknown;
}

/** `req.session` for middleware written for express-session: data keys as properties. */
export type ExpressSessionView<T extends SessionData = SessionData> = T &
  ExpressSessionApi &
  Pick<SessionHandle<T>, 'get' | 'set' | 'unset' | 'setUser' | 'load' | 'isNew' | 'isModified'>;

/** Methods that settle later: with a callback they call it, without one they return the promise. */
const ASYNC = new Set(['regenerate', 'save', 'destroy', 'reload', 'load']);
/** Names that are the session API, not data keys. */
const API = new Set([
  ...ASYNC,
  'id',
  'touch',
  'cookie',
  'data',
  'get',
  'set',
  'unset',
  'setUser',
  'isNew',
  'isModified',
  'isLoaded',
]);
const HANDLE = Symbol('clusterSession.handle');

interface Target {
  [HANDLE]: SessionHandle;
  /** Functions handed out, one per name, so `req.session.save === req.session.save`. */
  methods?: Map<string, unknown>;
}

/**
 * The handle as express-session's `req.session`: `req.session.passport = {...}`,
 * `delete req.session.flash`, `'csrfToken' in req.session`, `Object.keys(req.session)`, and
 * `regenerate(cb)`, `save(cb)`, `destroy(cb)`, `reload(cb)`, `touch()`. A property write is a
 * data change like `set()` (a changed top-level key for the delta save, G6), and `regenerate`
 * is the handle's safe regenerate (G10). Data is there once the session is loaded: the module
 * loads it before middleware runs whenever the request carries a valid signed cookie.
 */
export function expressSessionView<T extends SessionData>(
  handle: SessionHandle<T>,
): ExpressSessionView<T> {
  const target: Target = { [HANDLE]: handle as SessionHandle };
  return new Proxy(target, TRAPS) as unknown as ExpressSessionView<T>;
}

/** The handle behind a view (or the handle itself); undefined for anything else. */
export function handleOf(session: unknown): SessionHandle | undefined {
  if (session === null || typeof session !== 'object') return undefined;
  return (
    (session as Partial<Target>)[HANDLE] ?? (session instanceof SessionHandle ? session : undefined)
  );
}

const TRAPS: ProxyHandler<Target> = {
  get(target, key, receiver) {
    if (typeof key === 'symbol') return key === HANDLE ? target[HANDLE] : undefined;
    const handle = target[HANDLE];
    if (!API.has(key)) return handle.isLoaded || key !== 'then' ? dataOf(handle)[key] : undefined;
    if (key === 'data') return dataOf(handle);
    const member = (handle as unknown as Record<string, unknown>)[key];
    if (typeof member !== 'function' && key !== 'touch') return member;
    target.methods ??= new Map();
    let method = target.methods.get(key);
    if (!method) {
      method = apiMethod(handle, key, receiver as ExpressSessionView);
      target.methods.set(key, method);
    }
    return method;
  },
  set(target, key, value) {
    if (typeof key === 'symbol' || API.has(key)) throw reserved(key);
    dataOf(target[HANDLE])[key] = value;
    return true;
  },
  deleteProperty(target, key) {
    if (typeof key === 'symbol' || API.has(key)) throw reserved(key);
    delete dataOf(target[HANDLE])[key];
    return true;
  },
  has(target, key) {
    return typeof key === 'string' && (API.has(key) || key in dataOf(target[HANDLE]));
  },
  ownKeys(target) {
    return Object.keys(dataOf(target[HANDLE]));
  },
  getOwnPropertyDescriptor(target, key) {
    const data = dataOf(target[HANDLE]);
    if (typeof key !== 'string' || !Object.prototype.hasOwnProperty.call(data, key)) {
      return undefined;
    }
    return { value: data[key], writable: true, enumerable: true, configurable: true };
  },
  defineProperty(target, key, descriptor) {
    if (typeof key === 'symbol' || API.has(key) || !('value' in descriptor)) throw reserved(key);
    dataOf(target[HANDLE])[key] = descriptor.value;
    return true;
  },
};

function dataOf(handle: SessionHandle): SessionData {
  return handle.data;
}

function apiMethod(handle: SessionHandle, key: string, view: ExpressSessionView): unknown {
  if (key === 'touch') {
    return () => {
      handle.requestTouch();
      return view;
    };
  }
  const method = (handle as unknown as Record<string, (...args: unknown[]) => unknown>)[key];
  if (!ASYNC.has(key)) return method.bind(handle);
  return (callback?: unknown) => {
    const done = method.call(handle) as Promise<unknown>;
    if (typeof callback !== 'function') return done.then(() => undefined);
    done.then(
      () => callback(),
      (error: unknown) => callback(error),
    );
    return view;
  };
}

function reserved(key: string | symbol): ClusterSessionError {
  return new ClusterSessionError(
    `req.session.${String(key)} is part of the session API and cannot be set or deleted; store data under another key`,
  );
}
