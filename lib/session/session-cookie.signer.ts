import { sign, unsign } from 'cookie-signature';
import { isSessionId } from './session-id.util';

/** Longer cookie values are rejected before any HMAC is computed. */
const MAX_COOKIE_VALUE_LENGTH = 256;

/**
 * Signs session ids for the cookie with HMAC-SHA256 (`cookie-signature`, as express-session
 * does). The first secret signs; every secret verifies, so secrets can be rotated.
 */
export class SessionCookieSigner {
  private readonly secrets: readonly string[];

  /** `secrets` must already be validated (non-empty, each at least 32 characters). */
  constructor(secrets: string | readonly string[]) {
    this.secrets = typeof secrets === 'string' ? [secrets] : [...secrets];
  }

  sign(id: string): string {
    return sign(id, this.secrets[0]);
  }

  /**
   * The session id in a signed cookie value, or `null` when the value is malformed, oversized,
   * carries a bad signature or a malformed id. Never throws: cookies are untrusted input.
   */
  unsign(value: unknown): string | null {
    if (
      typeof value !== 'string' ||
      value.length > MAX_COOKIE_VALUE_LENGTH ||
      !value.includes('.')
    ) {
      return null;
    }
    for (const secret of this.secrets) {
      const id = unsign(value, secret);
      if (id !== false) return isSessionId(id) ? id : null;
    }
    return null;
  }
}
