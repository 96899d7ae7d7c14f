import type { ServerResponse } from 'node:http';
import type { SessionHandle } from '../session/session-handle';
import { applyCommitOutcome } from './http-session.util';
import type { CommitOutcome, SessionCommitter } from './session-committer.service';

/** The calls that can send the first byte of a response. */
type Method = 'writeHead' | 'flushHeaders' | 'write' | 'end';
type AnyMethod = (this: ServerResponse, ...args: unknown[]) => unknown;
type GatedResponse = ServerResponse & { [GATE]?: ResponseGate };

const METHODS: readonly Method[] = ['writeHead', 'flushHeaders', 'write', 'end'];
const GATE = Symbol('clusterSession.responseGate');
/** One wrapper per method for every response (no closure per request): the gate is on `this`. */
const WRAPPERS = Object.fromEntries(
  METHODS.map((method) => [
    method,
    function gated(this: GatedResponse, ...args: unknown[]) {
      return this[GATE]!.intercept(method, args);
    },
  ]),
) as Record<Method, AnyMethod>;
/** Prototypes gated by {@link ResponseGate.installOnPrototype}. */
const PROTOTYPES = new WeakSet<object>();
const SENT: PropertyDescriptor = { configurable: true, enumerable: true, get: () => true };

/**
 * Commits the session before the first byte of a raw Node response leaves, whichever call sends
 * it: `writeHead`, `flushHeaders`, `write` or `end` (a JSON reply, a pipe, a file, SSE). When
 * the session has nothing to commit the first call goes straight through and the response is left
 * as it was. Otherwise that call and every later one wait for the commit, with `headersSent`
 * reading true meanwhile (so "send unless already sent" error paths leave the response alone);
 * then the cookie is added and the calls run in order, or, when the commit failed, the failure
 * is answered instead and the handler's calls are dropped.
 */
export class ResponseGate {
  private state: 'idle' | 'pending' | 'open' | 'failed' = 'idle';
  /** A held write returned false: its writer waits for 'drain'. */
  private drainOwed = false;
  /** Calls made while the commit runs: method, arguments, method, arguments… */
  private queue?: unknown[];
  private ownHeadersSent?: PropertyDescriptor;
  /** The status when the first call was made: what it would have sent, unheld. */
  private statusCode = 200;
  // The methods the gate passes calls to: the response's own before the gate (maybe another
  // middleware's wrappers), or, installed on a prototype, the parent prototype's.
  private readonly writeHead: AnyMethod;
  private readonly flushHeaders: AnyMethod;
  private readonly write: AnyMethod;
  private readonly end: AnyMethod;

  private constructor(
    private readonly response: GatedResponse,
    private handle: SessionHandle,
    private readonly committer: SessionCommitter,
    /** Tells the protocol at commit time (the Express request, or Fastify's). */
    private readonly request: { protocol?: string },
    originals: Record<Method, AnyMethod>,
    /** Installed on the response itself, so the originals go back once the gate opens. */
    private readonly own: boolean,
  ) {
    this.writeHead = originals.writeHead;
    this.flushHeaders = originals.flushHeaders;
    this.write = originals.write;
    this.end = originals.end;
  }

  /** Gates one response (Fastify's raw responses): its four methods, as own properties. */
  static install(
    response: ServerResponse,
    handle: SessionHandle,
    committer: SessionCommitter,
    request: { protocol?: string },
  ): void {
    const gated = response as GatedResponse;
    const existing = gated[GATE];
    if (existing) {
      // the middleware ran twice for one response: the newest handle is the request's session
      if (existing.state === 'idle') {
        existing.handle = handle;
      }
      return;
    }
    const originals = response as unknown as Record<Method, AnyMethod>;
    gated[GATE] = new ResponseGate(gated, handle, committer, request, originals, true);
    Object.assign(response, WRAPPERS);
  }

  /**
   * Gates every response that inherits from `prototype` (Express's per-application response
   * prototype), without a property per response: a response's first call finds the session
   * through its request (`res.req.session`), goes straight through when there is nothing to
   * commit, and only a response that must wait for a commit gets a gate of its own. The
   * prototype's wrappers call the parent prototype's methods. Idempotent.
   */
  static installOnPrototype(
    prototype: object,
    committer: SessionCommitter,
    sessionOf: (request: unknown) => SessionHandle | undefined,
  ): void {
    if (PROTOTYPES.has(prototype)) {
      return;
    }
    PROTOTYPES.add(prototype);
    const parent = Object.getPrototypeOf(prototype) as Record<Method, AnyMethod>;
    const originals = Object.fromEntries(METHODS.map((m) => [m, parent[m]])) as Record<
      Method,
      AnyMethod
    >;
    for (const method of METHODS) {
      Object.defineProperty(prototype, method, {
        configurable: true,
        writable: true,
        value: function gatedOnPrototype(
          this: GatedResponse & { req?: unknown },
          ...args: unknown[]
        ) {
          const gate = this[GATE];
          if (gate) {
            return gate.intercept(method, args);
          }
          const handle = sessionOf(this.req);
          // nothing to commit: straight through, nothing allocated (and not asked again)
          if (!handle?.needsCommit()) {
            handle?.skipCommit();
            return originals[method].apply(this, args);
          }
          const request = (this.req ?? {}) as { protocol?: string };
          this[GATE] = new ResponseGate(this, handle, committer, request, originals, false);
          return this[GATE].intercept(method, args);
        },
      });
    }
  }

  /** Called by the wrappers, with the gate as `this[GATE]` of the response. */
  intercept(method: Method, args: unknown[]): unknown {
    switch (this.state) {
      case 'idle':
        if (this.handle.needsCommit()) {
          return this.hold(method, args);
        }
        this.restore();
        return this[method].apply(this.response, args);
      case 'pending':
        this.queue!.push(method, args);
        return this.heldResult(method);
      case 'failed':
        // the failure was answered: whatever still writes (a pipe, a timer) is dropped quietly
        callBackLater(method, args);
        return queuedResult(method, this.response);
      default:
        // a wrapper put over ours still calls ours after the gate opened
        return this[method].apply(this.response, args);
    }
  }

  private hold(method: Method, args: unknown[]): unknown {
    this.state = 'pending';
    this.statusCode = this.response.statusCode;
    this.ownHeadersSent = Object.getOwnPropertyDescriptor(this.response, 'headersSent');
    Object.defineProperty(this.response, 'headersSent', SENT);
    this.queue = [method, args];
    void this.committer
      .commit(this.handle, this.request.protocol === 'https')
      .then((outcome) => this.release(outcome));
    return this.heldResult(method);
  }

  /**
   * What a held call returns. A held `write` returns false, as a full socket buffer would: a
   * pipe or a well-behaved writer then waits for 'drain' (emitted once the commit is done),
   * so a streamed body is not buffered here while the commit waits for Redis.
   */
  private heldResult(method: Method): unknown {
    if (method === 'write') {
      this.drainOwed = true;
      return false;
    }
    return queuedResult(method, this.response);
  }

  /** 'drain' for the writers a held write told to wait, unless the socket will say it itself. */
  private settleDrain(): void {
    if (this.drainOwed && !this.response.writableNeedDrain) {
      this.drainOwed = false;
      process.nextTick(() => this.response.emit('drain'));
    }
  }

  private release(outcome: CommitOutcome): void {
    const { response } = this;
    const queue = this.queue!;
    this.queue = undefined;
    this.restore();
    if (this.ownHeadersSent) {
      Object.defineProperty(response, 'headersSent', this.ownHeadersSent);
    } else {
      delete (response as { headersSent?: boolean }).headersSent;
    }
    if (outcome.failure) {
      // nothing of the handler's response has left: the failure replaces all of it
      this.end.call(response, applyCommitOutcome(response, outcome));
      this.state = 'failed';
      Object.assign(response, WRAPPERS);
      for (let i = 0; i < queue.length; i += 2) {
        callBackLater(queue[i] as Method, queue[i + 1]);
      }
      this.settleDrain();
      return;
    }
    // an error path may set a status meanwhile (Fastify's reply.code() sets it on the response)
    response.statusCode = this.statusCode;
    if (!(outcome.cookie && queue[0] === 'writeHead' && mergeCookie(queue[1], outcome.cookie))) {
      applyCommitOutcome(response, outcome);
    }
    for (let i = 0; i < queue.length; i += 2) {
      try {
        this[queue[i] as Method].apply(response, queue[i + 1] as unknown[]);
      } catch {
        // Unheld, Node would have thrown this to the caller (e.g. a second writeHead once an
        // earlier end had sent the response), which has long returned: the call is skipped.
      }
    }
    this.settleDrain();
  }

  /** Puts back the response's own methods, unless something wrapped ours meanwhile. */
  private restore(): void {
    this.state = 'open';
    if (!this.own) {
      return; // on a prototype, an open gate passes calls through
    }
    const methods = this.response as unknown as Record<Method, AnyMethod>;
    for (const method of METHODS) {
      if (methods[method] === WRAPPERS[method]) {
        methods[method] = this[method];
      }
    }
  }
}

/** What each method returns when its call is held back: `write` accepts more, the rest chain. */
function queuedResult(method: Method, response: ServerResponse): unknown {
  if (method === 'write') {
    return true;
  }
  return method === 'flushHeaders' ? undefined : response;
}

/** A dropped `write`/`end` still calls its callback, asynchronously as Node does. */
function callBackLater(method: Method, args: unknown): void {
  const callback = (args as unknown[]).at(-1);
  if ((method === 'write' || method === 'end') && typeof callback === 'function') {
    process.nextTick(callback as () => void);
  }
}

/**
 * Adds the cookie to the headers given to `writeHead(status, [message,] headers)` when they set
 * cookies of their own: Node would otherwise replace the one set on the response with theirs.
 */
function mergeCookie(args: unknown, cookie: string): boolean {
  const list = args as unknown[];
  const at = list.length > 2 ? 2 : 1; // after the status message, when one is given
  const headers = list[at];
  if (Array.isArray(headers)) {
    // flat [name, value, name, value…]: Node keeps every value given for a name
    for (let i = 0; i < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === 'set-cookie') {
        list[at] = [...headers, headers[i], cookie];
        return true;
      }
    }
    return false;
  }
  if (!headers || typeof headers !== 'object') {
    return false;
  }
  const name = Object.keys(headers).find((key) => key.toLowerCase() === 'set-cookie');
  if (name === undefined) {
    return false;
  }
  const own = (headers as Record<string, unknown>)[name];
  const values = own === undefined ? [] : Array.isArray(own) ? own : [String(own)];
  list[at] = { ...headers, [name]: [...values, cookie] }; // a copy: the caller's object is theirs
  return true;
}
