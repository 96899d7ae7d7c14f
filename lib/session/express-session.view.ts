import { inspect } from 'node:util';
import { Logger } from '@nestjs/common';
import { ClusterSessionError } from '../errors/cluster-session.error';
import type { AnySessionData, AppSessionData } from './session-data.interface';
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
  /**
   * As express-session's: a new, empty session under a new id (keeping only the keys listed, as
   * @fastify/passport asks), the old one destroyed on every node, and `req.session` a new object
   * (what Passport's `keepSessionInfo` copies from). `@Session()`'s `regenerate()` keeps the data.
   */
  regenerate(callback?: Callback | readonly string[]): unknown;
  save(callback?: Callback): unknown;
  destroy(callback?: Callback): unknown;
  reload(callback?: Callback): unknown;
  touch(): unknown;
}

/**
 * `req.session` for middleware written for express-session: data keys as properties.
 *
 * @publicApi
 */
export type ExpressSessionView<T extends object = AppSessionData> = T &
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
  'toJSON',
]);
const HANDLE = Symbol('clusterSession.handle');
const logger = new Logger('ClusterSession');

/** What a view is over: the handle, and what holds `session` (the request), for regenerate. */
interface Binding {
  handle: SessionHandle;
  holder: { session?: unknown };
}

/**
 * The proxy's target. `util.inspect` and `console.log` show a proxy's target, and the handle
 * reaches the store, the Redis connection and the secrets: the target's custom inspection shows
 * the data and cookie instead, and the handle sits under a symbol it does not list.
 */
interface Target {
  /** Functions handed out, one per name, so `req.session.save === req.session.save`. */
  methods?: Map<string, unknown>;
  /** After an express-style regenerate, this (old) `req.session` reads the data it had then. */
  detached?: AnySessionData;
  /** `req.session.data`, handed out once. */
  data?: AnySessionData;
}

const BINDING = Symbol('clusterSession.binding');
/** The binding of a target: a symbol property (cheaper than a WeakMap entry per request). */
const BINDINGS = {
  get: (target: Target): Binding | undefined => (target as { [BINDING]?: Binding })[BINDING],
  // not enumerable: even `inspect(req.session, { customInspect: false })` does not list it
  set: (target: Target, binding: Binding): void => {
    Object.defineProperty(target, BINDING, { value: binding, configurable: true }); // proxy invariant
  },
};

const SNAPSHOT = Symbol('clusterSession.snapshot');

/**
 * What `console.log(req.session)` shows: the data and the cookie, as express-session's. Node
 * calls it with the proxy as `this` (the snapshot comes through the get trap), or the target.
 */
const TARGET_PROTOTYPE = {
  [inspect.custom](this: Target & { [SNAPSHOT]?: AnySessionData }) {
    return this[SNAPSHOT] ?? snapshotOf(this);
  },
};

function snapshotOf(target: Target): AnySessionData {
  const binding = BINDINGS.get(target);
  if (!binding) {
    return {};
  }
  if (target.detached) {
    return target.detached;
  }
  const { handle } = binding;
  return handle.isLoaded ? { ...handle.data, cookie: handle.cookie } : {};
}

/**
 * The handle as express-session's `req.session`: `req.session.passport = {...}`,
 * `delete req.session.flash`, `'csrfToken' in req.session`, `Object.keys(req.session)`, and
 * `regenerate(cb)`, `save(cb)`, `destroy(cb)`, `reload(cb)`, `touch()`. A property write is a
 * data change like `set()` (a changed top-level key for the delta save, G6). Data is there once
 * the session is loaded: the module loads it before middleware runs whenever the request carries
 * a valid signed cookie. `holder` is what `session` is read from (the request).
 */
export function expressSessionView<T extends object>(
  handle: SessionHandle<T>,
  holder: { session?: unknown },
): ExpressSessionView<T> {
  const target: Target = Object.create(TARGET_PROTOTYPE) as Target;
  BINDINGS.set(target, { handle: handle as SessionHandle, holder });
  return new Proxy(target, TRAPS) as unknown as ExpressSessionView<T>;
}

/** The handle behind a view (or the handle itself); undefined for anything else. */
export function handleOf(session: unknown): SessionHandle | undefined {
  if (session === null || typeof session !== 'object') {
    return undefined;
  }
  if (session instanceof SessionHandle) {
    return session;
  }
  return (session as { [HANDLE]?: SessionHandle })[HANDLE];
}

const TRAPS: ProxyHandler<Target> = {
  get(target, key, receiver) {
    const binding = BINDINGS.get(target)!;
    if (typeof key === 'symbol') {
      if (key === SNAPSHOT) {
        return snapshotOf(target);
      }
      return key === HANDLE ? binding.handle : undefined;
    }
    if (!API.has(key)) {
      if (key === 'then' && !binding.handle.isLoaded) {
        return undefined; // not a thenable
      }
      return dataOf(target)[key];
    }
    if (key === 'data') {
      target.data ??= callableData(target);
      return target.data;
    }
    const member = (binding.handle as unknown as Record<string, unknown>)[key];
    if (typeof member !== 'function' && key !== 'touch' && key !== 'toJSON') {
      return member;
    }
    target.methods ??= new Map();
    let method = target.methods.get(key);
    if (!method) {
      method = apiMethod(target, binding, key, receiver as ExpressSessionView);
      target.methods.set(key, method);
    }
    return method;
  },
  set(target, key, value) {
    if (typeof key === 'symbol' || API.has(key)) {
      throw reserved(key);
    }
    dataOf(target)[key] = value;
    return true;
  },
  deleteProperty(target, key) {
    if (typeof key === 'symbol' || API.has(key)) {
      throw reserved(key);
    }
    delete dataOf(target)[key];
    return true;
  },
  has(target, key) {
    return typeof key === 'string' && (API.has(key) || key in dataOf(target));
  },
  ownKeys(target) {
    return Object.keys(dataOf(target));
  },
  getOwnPropertyDescriptor(target, key) {
    const data = dataOf(target);
    if (typeof key !== 'string' || !Object.prototype.hasOwnProperty.call(data, key)) {
      return undefined;
    }
    return { value: data[key], writable: true, enumerable: true, configurable: true };
  },
  defineProperty(target, key, descriptor) {
    if (typeof key === 'symbol' || API.has(key) || !('value' in descriptor)) {
      throw reserved(key);
    }
    dataOf(target)[key] = descriptor.value;
    return true;
  },
};

function dataOf(target: Target): AnySessionData {
  return target.detached ?? BINDINGS.get(target)!.handle.data;
}

/**
 * `req.session.data`: the data, read as an object (`req.session.data.cart`), and also callable,
 * as @fastify/secure-session's `session.data()`: @fastify/passport with `clearSessionOnLogin:
 * false` copies the data through it before regenerating, and would otherwise lose it.
 */
function callableData(target: Target): AnySessionData {
  const data = () => dataOf(target);
  return new Proxy(data, {
    apply: () => dataOf(target),
    // a key of the data, else the function's own (`data.call(session)`, as @fastify/passport calls it)
    get: (fn, key) => {
      const own = dataOf(target);
      return Object.prototype.hasOwnProperty.call(own, key)
        ? own[key as string]
        : Reflect.get(fn, key);
    },
    has: (_, key) => Reflect.has(dataOf(target), key),
    ownKeys: () => Reflect.ownKeys(dataOf(target)),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(dataOf(target), key);
      return descriptor && { ...descriptor, configurable: true };
    },
    set: (_, key, value) => Reflect.set(dataOf(target), key, value),
    deleteProperty: (_, key) => Reflect.deleteProperty(dataOf(target), key),
  }) as unknown as AnySessionData;
}

function apiMethod(
  target: Target,
  binding: Binding,
  key: string,
  view: ExpressSessionView,
): unknown {
  const { handle } = binding;
  if (key === 'touch') {
    return () => {
      handle.requestTouch();
      return view;
    };
  }
  if (key === 'toJSON') {
    return () => ({ ...dataOf(target), cookie: handle.cookie });
  }
  const method = (handle as unknown as Record<string, (...args: unknown[]) => unknown>)[key];
  if (!ASYNC.has(key)) {
    return method.bind(handle);
  }
  return (arg?: unknown) => {
    const done =
      key === 'regenerate'
        ? regenerate(target, binding, Array.isArray(arg) ? (arg as string[]) : [])
        : (method.call(handle) as Promise<unknown>).then(() => undefined);
    if (typeof arg !== 'function') {
      // a caller that does not wait (express-session code often does not) must not turn a
      // failure into an unhandled rejection, which stops the process
      done.catch(() => undefined);
      return done;
    }
    done.then(
      () => invoke(arg as Callback),
      (error: unknown) => invoke(arg as Callback, error),
    );
    return view;
  };
}

/** express-session's regenerate: the old `req.session` keeps reading the old data. */
async function regenerate(
  target: Target,
  binding: Binding,
  keep: readonly string[],
): Promise<void> {
  target.detached = { ...dataOf(target) };
  await binding.handle.regenerate({ fresh: true, keep });
  binding.holder.session = expressSessionView(binding.handle, binding.holder);
}

/** Calls a user's callback; what it throws is logged, not left to stop the process. */
function invoke(callback: Callback, error?: unknown): void {
  try {
    callback(error);
  } catch (thrown) {
    logger.error(
      `a req.session callback threw: ${thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown)}`,
    );
  }
}

function reserved(key: string | symbol): ClusterSessionError {
  return new ClusterSessionError(
    `req.session.${String(key)} is part of the session API and cannot be set or deleted; store data under another key`,
  );
}
