import { Inject, Injectable } from '@nestjs/common';
import { parseCookie, stringifySetCookie } from 'cookie';
import { unsign } from 'cookie-signature';
import { CLUSTER_SESSION_OPTIONS } from '../cluster-session.constants';
import type { ResolvedClusterSessionOptions } from '../options/cluster-session-options.interface';
import { SessionCookieSigner, type SessionCookieValue } from '../session/session-cookie.signer';
import type { CookieAction } from '../session/session-handle';

/** Reads the signed session id from a Cookie header and writes the Set-Cookie value. */
@Injectable()
export class SessionCookieService {
  private readonly signer: SessionCookieSigner;

  constructor(
    @Inject(CLUSTER_SESSION_OPTIONS) private readonly options: ResolvedClusterSessionOptions,
  ) {
    this.signer = new SessionCookieSigner(options.secrets);
  }

  /** The id and version of a valid signed session cookie, else null; never throws on bad input. */
  read(cookieHeader: string | string[] | undefined): SessionCookieValue | null {
    // (no length limit of its own: Node's header size limit, 16 KB by default, bounds it)
    if (typeof cookieHeader !== 'string') {
      return null;
    }
    try {
      return this.signer.unsign(parseCookie(cookieHeader)[this.options.cookie.name]);
    } catch {
      return null;
    }
  }

  /**
   * The id in a valid express-session cookie (`s:<id>.<signature>`, signed with one of our
   * secrets) under `migrateFrom.cookieName`, or null; only when this request has no cookie of ours.
   */
  readLegacy(cookieHeader: string | string[] | undefined): string | null {
    const legacy = this.options.migrateFrom;
    if (!legacy || typeof cookieHeader !== 'string') {
      return null;
    }
    try {
      const value = parseCookie(cookieHeader)[legacy.cookieName];
      if (!value?.startsWith('s:') || value.length > 256) {
        return null;
      }
      for (const secret of this.options.secrets) {
        const id = unsign(value.slice(2), secret);
        if (id !== false) {
          return /^[\w-]{1,128}$/.test(id) ? id : null;
        }
      }
    } catch {
      // a malformed header is no cookie
    }
    return null;
  }

  /** The Set-Cookie value for an action, with `secure: 'auto'` resolved from the request's protocol. */
  serialize(action: NonNullable<CookieAction>, secureRequest: boolean): string {
    const { name, path, domain, httpOnly, secure, sameSite } = this.options.cookie;
    const attributes = {
      path,
      domain,
      httpOnly,
      sameSite,
      secure: secure === 'auto' ? secureRequest : secure,
    };
    if ('clear' in action) {
      return stringifySetCookie(name, '', { ...attributes, expires: new Date(0) });
    }
    const value = this.signer.sign(action.set, action.version);
    if (action.maxAge === undefined) {
      return stringifySetCookie(name, value, attributes);
    }
    // a persistent cookie: Max-Age for current browsers, Expires for old ones
    return stringifySetCookie(name, value, {
      ...attributes,
      maxAge: Math.ceil(action.maxAge / 1_000),
      expires: new Date(Date.now() + action.maxAge),
    });
  }
}
