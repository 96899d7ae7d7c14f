import { InvalidSessionDataError } from '../errors/invalid-session-data.error';
import type { Session } from './session';
import type { AnySessionData } from './session-data.interface';

/**
 * What a request changed in its session, measured against what it was read with (the stored
 * fields every `Session` keeps): the store encodes the delta save from it, the handle asks
 * whether there is anything to commit and carries changes across a regenerate.
 */

/** Hash fields holding data are `d:<top-level key>`; everything else is metadata. */
export const DATA_FIELD_PREFIX = 'd:';

/** True when a save would write something: a changed, added or removed top-level key. */
export function hasChanges(session: Session<object>): boolean {
  const baseline = session.storedState.fields;
  let kept = 0;
  for (const key of Object.keys(session.data)) {
    const json = serializeValue(key, (session.data as AnySessionData)[key]);
    if (json === undefined) {
      continue;
    }
    if (baseline.get(DATA_FIELD_PREFIX + key) !== json) {
      return true;
    }
    kept++;
  }
  return kept !== baseline.size;
}

/**
 * Carries the changes a request made to `from` (keys that differ from what it was read with,
 * keys it removed, a new owner) over to `to`, a newer copy of the same session, and returns
 * `to`. Keys the request did not change keep `to`'s values: what other nodes wrote meanwhile
 * survives (G6 across a regenerate).
 */
export function applyChanges<T extends object>(from: Session<T>, to: Session<T>): Session<T> {
  const baseline = from.storedState.fields;
  const data = to.data as AnySessionData;
  const kept = new Set<string>();
  for (const key of Object.keys(from.data)) {
    const value = (from.data as AnySessionData)[key];
    const json = serializeValue(key, value);
    if (json === undefined) {
      continue;
    }
    kept.add(DATA_FIELD_PREFIX + key);
    if (baseline.get(DATA_FIELD_PREFIX + key) !== json) {
      data[key] = value;
    }
  }
  for (const field of baseline.keys()) {
    if (!kept.has(field)) {
      delete data[field.slice(DATA_FIELD_PREFIX.length)];
    }
  }
  if (from.userId !== from.storedState.userId) {
    to.setUser(from.userId, from.client);
  }
  if (from.maxAge !== from.storedState.maxAge) {
    to.maxAge = from.maxAge;
  }
  return to;
}

/** A top-level value as stored (JSON); `undefined` for what JSON drops. Throws on what it cannot hold. */
export function serializeValue(key: string, value: unknown): string | undefined {
  if (key === '__proto__') {
    throw new InvalidSessionDataError(key, 'the key is reserved');
  }
  try {
    // undefined, functions and symbols are dropped, as JSON.stringify drops them from objects
    return JSON.stringify(value);
  } catch (error) {
    throw new InvalidSessionDataError(key, error instanceof Error ? error.message : String(error));
  }
}
