import { DATA_FIELD_PREFIX, serializeValue } from '../session/session-changes';
import { SessionTooLargeError } from '../errors/session-too-large.error';
import { Session, wallGap, type SessionState } from '../session/session';
import type { AnySessionData } from '../session/session-data.interface';

export interface SessionDelta {
  /** `[hash field, JSON]` of the keys that changed. */
  set: [string, string][];
  /** Hash fields of the keys that were removed. */
  removed: string[];
  /** Every data field after the save: the next baseline. */
  fields: Map<string, string>;
}

/**
 * The top-level keys that differ from what was stored. Throws, before anything is written, when
 * a value cannot be serialized or the whole session would exceed `maxBytes`.
 */
export function encodeDelta(session: Session<object>, maxBytes: number): SessionDelta {
  const baseline = session.storedState.fields;
  const fields = new Map<string, string>();
  const set: [string, string][] = [];
  let bytes = 0;
  for (const key of Object.keys(session.data)) {
    const json = serializeValue(key, (session.data as AnySessionData)[key]);
    if (json === undefined) {
      continue;
    }
    const field = DATA_FIELD_PREFIX + key;
    fields.set(field, json);
    bytes += Buffer.byteLength(field) + Buffer.byteLength(json);
    if (baseline.get(field) !== json) {
      set.push([field, json]);
    }
  }
  // Concurrent delta saves on several nodes can together pass the limit (G6 keeps both); a
  // session already over it can still be saved as long as this save does not make it larger.
  if (bytes > maxBytes && bytes > sizeOf(baseline)) {
    throw new SessionTooLargeError(session.id, bytes, maxBytes);
  }
  const removed = [...baseline.keys()].filter((field) => !fields.has(field));
  return { set, removed, fields };
}

function sizeOf(fields: ReadonlyMap<string, string>): number {
  let bytes = 0;
  for (const [field, json] of fields) {
    bytes += Buffer.byteLength(field) + Buffer.byteLength(json);
  }
  return bytes;
}

/** Why a hash read from Redis is not a session. */
export class CorruptSessionData {
  constructor(readonly reason: string) {}
}

/** What a read (or the regenerate script) returns for an existing session. */
export interface RawSession {
  /** HGETALL as a flat `[field, value, …]` array. */
  hash: string[];
  /** PTTL of the key. */
  pttl: number;
  /** Redis clock, epoch ms. */
  now: number;
}

/**
 * A session as stored, without the data parsed: what the local cache keeps (frozen) and what
 * each request builds its own `Session` from, so no two requests share objects. Its state as a
 * `Session` keeps it, but with the data fields as `[hash field, JSON]` pairs (a frozen Map
 * would still be writable).
 */
export type SessionSnapshot = Omit<SessionState, 'fields'> & { fields: [string, string][] };

/**
 * Validates what a read returned; `null` when expired. Never throws. `localNow`: when
 * the read was sent, `receivedAt`: when its reply arrived (this node's clock).
 */
export function decodeSnapshot(
  raw: RawSession,
  localNow = Date.now(),
  receivedAt = localNow,
): SessionSnapshot | CorruptSessionData | null {
  const { hash, pttl, now } = raw;
  if (!Array.isArray(hash) || hash.length % 2 !== 0 || !hash.every((x) => typeof x === 'string')) {
    return new CorruptSessionData('not a hash');
  }
  if (!Number.isInteger(pttl) || pttl <= 0) {
    return new CorruptSessionData(
      `key has no expiry (PTTL ${typeof pttl === 'number' ? pttl : typeof pttl})`,
    );
  }
  const fields: [string, string][] = [];
  const meta = new Map<string, string>();
  for (let i = 0; i < hash.length; i += 2) {
    const field = hash[i];
    const value = hash[i + 1];
    if (!field.startsWith(DATA_FIELD_PREFIX)) {
      meta.set(field, value);
      continue;
    }
    try {
      JSON.parse(value);
    } catch {
      return new CorruptSessionData(`field ${field} is not JSON`);
    }
    fields.push([field, value]);
  }
  const version = integer(meta.get('v'));
  const createdAt = integer(meta.get('created'));
  const expires = integer(meta.get('expires'));
  const touched = integer(meta.get('touched'));
  const maxAge = meta.has('m') ? integer(meta.get('m')) : undefined;
  if (meta.has('m') && !(maxAge! > 0)) {
    return new CorruptSessionData('bad cookie lifetime');
  }
  if (version === undefined || version < 1) {
    return new CorruptSessionData('bad version');
  }
  if (createdAt === undefined || expires === undefined || touched === undefined) {
    return new CorruptSessionData('bad timestamps');
  }
  if (!Number.isInteger(now) || now <= 0) {
    return new CorruptSessionData('no Redis clock reading');
  }
  // G7: the key's TTL is capped at the absolute deadline; this guards against a key written otherwise
  if (expires <= now) {
    return null;
  }
  return {
    version,
    createdAt,
    expiresAt: localNow + Math.min(pttl, expires - now),
    touchedAt: localNow - Math.max(0, now - touched),
    userId: meta.get('user') ?? null,
    ...(maxAge === undefined ? {} : { maxAge }),
    fields,
    redisClock: {
      offset: now - localNow,
      lowOffset: now - receivedAt,
      absoluteDeadline: expires,
      wallGap: wallGap(),
    },
  };
}

/** A new `Session` with its own data, parsed from a (validated) snapshot. */
export function toSession<T extends object>(id: string, snapshot: SessionSnapshot): Session<T> {
  const data: AnySessionData = {};
  for (const [field, json] of snapshot.fields) {
    const key = field.slice(DATA_FIELD_PREFIX.length);
    if (key !== '__proto__') {
      data[key] = JSON.parse(json);
    }
    // a stored "__proto__" key must not become the prototype (defineProperty costs more: only here)
    else {
      Object.defineProperty(data, key, {
        value: JSON.parse(json),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  const { version, createdAt, expiresAt, touchedAt, userId, originId, maxAge, redisClock } =
    snapshot;
  const state: SessionState = {
    version,
    createdAt,
    expiresAt,
    touchedAt,
    userId,
    originId,
    maxAge,
    fields: baselineOf(snapshot.fields),
    redisClock,
  };
  return new Session(id, data as T, state);
}

/**
 * The stored fields as a map, built once per snapshot and shared by every request that reads
 * it: it is only read (a `ReadonlyMap`), to compute the delta of a save.
 */
const baselines = new WeakMap<SessionSnapshot['fields'], ReadonlyMap<string, string>>();
function baselineOf(fields: SessionSnapshot['fields']): ReadonlyMap<string, string> {
  let baseline = baselines.get(fields);
  if (!baseline) {
    baseline = new Map(fields);
    baselines.set(fields, baseline);
  }
  return baseline;
}

/** The snapshot of a session as it was last stored. */
export function snapshotOf(session: Session<object>): SessionSnapshot {
  const { version, createdAt, expiresAt, touchedAt, userId, originId, maxAge, fields, redisClock } =
    session.storedState;
  return {
    version,
    createdAt,
    expiresAt,
    touchedAt,
    userId,
    ...(originId === undefined ? {} : { originId }),
    ...(maxAge === undefined ? {} : { maxAge }),
    fields: [...fields],
    ...(redisClock === undefined ? {} : { redisClock }),
  };
}

function integer(value: string | undefined): number | undefined {
  if (value === undefined || !/^-?\d{1,16}$/.test(value)) {
    return undefined;
  }
  return Number(value);
}
