import type { SessionChange } from '../redis/session-commands';
import { DATA_FIELD_PREFIX } from '../session/session-changes';
import { wallGap } from '../session/session';
import type { SessionSnapshot } from './session-codec';

/**
 * A change of the wall clock against the monotonic clock beyond this, since a copy's offset was
 * measured, is a step (NTP, a resumed VM), not the drift of a slewing clock over a cache lifetime.
 */
const WALL_CLOCK_STEP_MS = 100;

/** An update as it arrived: the version it makes, and what changed. */
export interface ArrivedUpdate {
  version: number;
  change: SessionChange;
}

/**
 * The next version of a cached copy: `snapshot` (the version before `update`) with the change
 * applied as the save script applied it in Redis; `null` when it cannot be applied (no clock
 * reading to place the new deadline, a value that does not decrypt or is not JSON, a field that
 * is not data) or when the result has already expired. `decrypt` turns a value as stored into
 * its JSON (with encryption: ciphertext bound to the session's origin id).
 *
 * The deadline is the one the save set on the key (Redis clock), converted with the copy's
 * offset, which is never below the real one: the copy never outlives the session in Redis (G7).
 * If this node's wall clock has stepped since that offset was measured, nothing is applied.
 */
export function applyUpdate(
  snapshot: SessionSnapshot,
  update: ArrivedUpdate,
  decrypt: (field: string, value: string) => string | null,
  localNow = Date.now(),
  gapNow = wallGap(),
): SessionSnapshot | null {
  const clock = snapshot.redisClock;
  // the wall clock stepped since the offset was measured: converting with it would be off by the step
  if (!clock || Math.abs(gapNow - clock.wallGap) > WALL_CLOCK_STEP_MS) {
    return null;
  }
  const { change } = update;
  const expiresAt = Math.min(change.deadline, clock.absoluteDeadline) - clock.offset;
  if (!(expiresAt > localNow)) {
    return null;
  }
  const fields = new Map(snapshot.fields);
  for (const [field, stored] of change.set) {
    const json = field.startsWith(DATA_FIELD_PREFIX) ? decrypt(field, stored) : null;
    if (json === null || !isJson(json)) {
      return null;
    }
    fields.set(field, json);
  }
  for (const field of change.removed) {
    if (!field.startsWith(DATA_FIELD_PREFIX)) {
      return null;
    }
    fields.delete(field);
  }
  const maxAge = change.maxAge === undefined ? snapshot.maxAge : (change.maxAge ?? undefined);
  const next: SessionSnapshot = {
    ...snapshot,
    version: update.version,
    expiresAt,
    touchedAt: Math.min(change.touchedAt - clock.offset, localNow),
    userId: change.user === undefined ? snapshot.userId : change.user,
    fields: [...fields],
  };
  if (maxAge === undefined) {
    delete next.maxAge;
  } else {
    next.maxAge = maxAge;
  }
  return next;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
