import { inspect } from 'node:util';
import { InvalidSessionDataError } from '../errors/invalid-session-data.error';
import type { ResolvedClusterSessionOptions } from '../options/cluster-session-options.interface';
import { LONGEST_COOKIE } from '../options/resolve-options';

/** What the cookie asks of its session. */
interface CookieLifetime {
  /** The cookie's lifetime, ms, or undefined for a browser-session cookie. */
  lifetime(): number | undefined;
  /** When the session expires in Redis unless touched or saved (0: not stored yet). */
  expiresAt(): number;
  setLifetime(maxAge: number | undefined): void;
  /** Ends the session with this response, and expires its cookie. */
  expire(): void;
  /** Whether `expire()` was asked (and not taken back by a lifetime set since). */
  expiring(): boolean;
  /** The longest a cookie may live: `absoluteTimeout` (a session never outlives it), ms. */
  longest(): number;
  /** When the session ends whatever happens (its absolute deadline), epoch ms. */
  absoluteDeadline(): number;
}

/**
 * `req.session.cookie`, as express-session has it. `maxAge` is the time left (ms), `expires`
 * when the cookie and the session end, `originalMaxAge` the lifetime the cookie was given.
 * Setting `maxAge` or `expires` gives this session a persistent cookie of that lifetime, and its
 * idle timeout in Redis with it; `null` returns to the module's `cookie.maxAge` option.
 *
 * @publicApi
 */
export class SessionCookie {
  constructor(
    private readonly options: ResolvedClusterSessionOptions['cookie'],
    private readonly session: CookieLifetime,
  ) {}

  // The attributes are the module's `cookie` options, for every session: setting one here
  // would read back and not be applied, so it is refused, naming the option to set instead.
  get path(): string {
    return this.options.path;
  }
  set path(value: string) {
    this.keep('path', value);
  }

  get domain(): string | undefined {
    return this.options.domain;
  }
  set domain(value: string | undefined) {
    this.keep('domain', value);
  }

  get httpOnly(): boolean {
    return this.options.httpOnly;
  }
  set httpOnly(value: boolean) {
    this.keep('httpOnly', value);
  }

  get secure(): boolean | 'auto' {
    return this.options.secure;
  }
  set secure(value: boolean | 'auto') {
    this.keep('secure', value);
  }

  get sameSite(): 'lax' | 'strict' | 'none' {
    return this.options.sameSite;
  }
  set sameSite(value: 'lax' | 'strict' | 'none') {
    this.keep('sameSite', value);
  }

  /** An attribute assigned its option's value is accepted (a copied cookie); another, refused. */
  private keep<K extends 'path' | 'domain' | 'httpOnly' | 'secure' | 'sameSite'>(
    attribute: K,
    value: ResolvedClusterSessionOptions['cookie'][K],
  ): void {
    if (value !== this.options[attribute]) {
      refuse(attribute);
    }
  }

  /** The lifetime the cookie gets: the one set, but never past `absoluteTimeout`. */
  get originalMaxAge(): number | null {
    const lifetime = this.session.lifetime();
    return lifetime === undefined ? null : Math.min(lifetime, this.session.longest());
  }

  /** Read back, not set (express-session code that copies a cookie back assigns it): ignored. */
  set originalMaxAge(_: number | null) {}

  get expires(): Date | null {
    const lifetime = this.session.lifetime();
    if (lifetime === undefined) {
      return null;
    }
    if (this.session.expiring()) {
      return new Date();
    }
    const expires = this.session.expiresAt() || Date.now() + lifetime;
    return new Date(Math.min(expires, this.session.absoluteDeadline()));
  }

  /**
   * A `Date` (or a date string, as a JSON copy of the cookie has it): a persistent cookie until
   * then; `null`/`false`/`undefined`: back to the option.
   */
  set expires(date: Date | string | null | false | undefined) {
    const at = typeof date === 'string' ? new Date(date) : date;
    this.maxAge = at instanceof Date ? at.getTime() - Date.now() : null;
  }

  get maxAge(): number | null {
    if (this.session.expiring()) {
      return 0;
    }
    const expires = this.expires;
    return expires === null ? null : Math.max(0, expires.getTime() - Date.now());
  }

  set maxAge(maxAge: number | null) {
    if (maxAge === null || maxAge === undefined || (maxAge as unknown) === false) {
      this.session.setLifetime(undefined);
      return;
    }
    if (typeof maxAge !== 'number' || Number.isNaN(maxAge)) {
      throw new InvalidSessionDataError(
        'cookie.maxAge',
        `a cookie lifetime is a number of ms (0 or less: expire it now), got ${String(maxAge)}`,
      );
    }
    // under a second: expires now (a browser would drop it within the second anyway)
    if (maxAge < 1_000) {
      this.session.expire(); // express-session: the cookie expires now
      return;
    }
    // "forever" (a lifetime of years): as long as a cookie may live, and then absoluteTimeout
    this.session.setLifetime(Math.round(Math.min(maxAge, LONGEST_COOKIE)));
  }

  /** `console.log(req.session.cookie)`: the cookie, not the session behind it. */
  [inspect.custom](): Record<string, unknown> {
    return this.toJSON();
  }

  toJSON(): Record<string, unknown> {
    const { originalMaxAge, expires, path, domain, httpOnly, secure, sameSite } = this;
    return { originalMaxAge, expires, path, domain, httpOnly, secure, sameSite };
  }
}

function refuse(attribute: string): never {
  throw new InvalidSessionDataError(
    `cookie.${attribute}`,
    `the cookie's ${attribute} is the same for every session: set it in the module's options (cookie.${attribute}), not per request; per request, set cookie.maxAge or cookie.expires`,
  );
}
