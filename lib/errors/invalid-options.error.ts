import { ClusterSessionError } from './cluster-session.error';

/**
 * An option failed validation at startup; the message names the option, the value and what is allowed.
 *
 * @publicApi
 */
export class InvalidOptionsError extends ClusterSessionError {
  /** `givenDescription` replaces the value in the message when it must not be printed (a secret). */
  constructor(
    readonly option: string,
    given: unknown,
    readonly allowed: string,
    givenDescription = describe(given),
  ) {
    super(`Invalid option ${option}: got ${givenDescription}; expected ${allowed}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (value === null || value === undefined) {
    return String(value);
  }
  if (Array.isArray(value)) {
    return `an array of ${value.length}`;
  }
  return `a value of type ${typeof value}`;
}
