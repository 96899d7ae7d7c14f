import type { IncomingMessage } from 'node:http';
import { Logger } from '@nestjs/common';

/**
 * What `describeClient` records about a client.
 *
 * @publicApi
 */
export type ClientDescription = Record<string, string>;

/** The `describeClient` option. */
export type DescribeClient = (request: IncomingMessage) => ClientDescription | undefined;

/** What `describeClient` may record about a client, at most. */
export const CLIENT_DESCRIPTION_LIMITS = { keys: 16, bytes: 1_024 };

/**
 * A client description as stored (JSON), or why it cannot be: a plain object of at most 16
 * string values, 1,024 bytes in all.
 */
export function encodeClientDescription(value: unknown): { encoded: string } | { problem: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problem: `${describe(value)}, not an object of strings` };
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    return { problem: 'an instance of a class, not a plain object of strings' };
  }
  const entries = Object.entries(value);
  if (entries.length > CLIENT_DESCRIPTION_LIMITS.keys) {
    return { problem: `${entries.length} keys, at most ${CLIENT_DESCRIPTION_LIMITS.keys}` };
  }
  const wrong = entries.find(([, v]) => typeof v !== 'string');
  if (wrong) {
    return { problem: `key "${wrong[0].slice(0, 64)}" holds ${describe(wrong[1])}, not a string` };
  }
  const encoded = JSON.stringify(Object.fromEntries(entries));
  const bytes = Buffer.byteLength(encoded);
  if (bytes > CLIENT_DESCRIPTION_LIMITS.bytes) {
    return { problem: `${bytes} bytes as JSON, at most ${CLIENT_DESCRIPTION_LIMITS.bytes}` };
  }
  return { encoded };
}

/** A stored description (Redis content): undefined unless it is one `encode` would write. */
export function decodeClientDescription(raw: unknown): ClientDescription | undefined {
  if (typeof raw !== 'string' || raw === '' || raw.length > CLIENT_DESCRIPTION_LIMITS.bytes) {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const checked = encodeClientDescription(parsed);
  return 'encoded' in checked ? (parsed as ClientDescription) : undefined;
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

const logger = new Logger('ClusterSession');

/**
 * `describeClient` bound to one request, its answer checked: a failure or an answer that cannot
 * be stored is logged and records nothing (the login goes on).
 */
export function clientDescriber(
  describeClient: DescribeClient | null,
  request: IncomingMessage,
): (() => ClientDescription | undefined) | undefined {
  if (!describeClient) {
    return undefined;
  }
  return () => {
    let value: unknown;
    try {
      value = describeClient(request);
    } catch (error) {
      logger.warn(
        `describeClient threw (${error instanceof Error ? error.message : String(error)}): nothing is recorded about this client`,
      );
      return undefined;
    }
    if (value === undefined) {
      return undefined;
    }
    let checked: ReturnType<typeof encodeClientDescription>;
    try {
      checked = encodeClientDescription(value); // a getter or a Proxy may throw too
    } catch (error) {
      checked = { problem: `an object that cannot be read (${(error as Error).message})` };
    }
    if ('problem' in checked) {
      logger.warn(
        `describeClient returned ${checked.problem}: nothing is recorded about this client`,
      );
      return undefined;
    }
    return JSON.parse(checked.encoded) as ClientDescription;
  };
}
