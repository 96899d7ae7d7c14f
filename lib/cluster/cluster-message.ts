import { isSessionId } from '../session/session-id.util';
import type { SessionChange } from '../redis/session-commands';
import type { MessageAuthenticator } from './message-auth';

/** What a write announces; the coordinator numbers, signs and encodes it (see {@link encodeClusterMessage}). */
export type Announcement =
  /** A save: version `version` of `id` is the one before it with `change` applied. */
  | { kind: 'update'; id: string; version: number; change: SessionChange }
  /** A save whose change does not travel: version `version` of `id` exists. */
  | { kind: 'invalidate'; id: string; version: number }
  | { kind: 'destroy'; ids: string[] }
  | { kind: 'clear' }
  /** Nothing changed: keeps the sequence going. */
  | { kind: 'noop' };

/** One message on the channel, as published by a write script. */
export type ClusterMessage = Announcement & {
  origin: string;
  /** Random per process start of the origin, so a restarted node starts a new sequence. */
  epoch: string;
  seq: number;
  /** When the writer sent it, epoch ms (its own clock; the Redis clock for `ncs1`/`ncs2`). */
  sentAt: number;
};

/** Who sends a message, its number and when: the part of a message the coordinator adds. */
export interface MessageOrigin {
  origin: string;
  epoch: string;
  seq: number;
  /** Epoch ms, the sender's clock. */
  sentAt: number;
}

const CODES = { update: 'u', invalidate: 'i', destroy: 'd', clear: 'c', noop: 'n' } as const;
const KINDS = { u: 'update', i: 'invalidate', d: 'destroy', c: 'clear', n: 'noop' } as const;
/** Longer messages are not read at all (`cluster.maxUpdateBytes` stays below it). */
const MAX_MESSAGE_LENGTH = 1 << 20;
const NODE_ID = /^[^\s|,]{1,128}$/;
const EPOCH = /^[0-9a-f]{16,64}$/;
const DIGITS = /^\d{1,16}$/;

/**
 * `ncs3|kind|ids|version|origin|epoch|seq|sent_ms|payload|mac`, built and signed by the node (see
 * MessageAuthenticator) before the write, which publishes it as it is: everything in it is known
 * beforehand, since a save applies only onto the version it read and the node decides its
 * deadline (see the save script).
 *
 * The payload of an update is the JSON `[touchedAt, deadline, user, maxAge, set, removed]`,
 * `user` and `maxAge` 0 when unchanged; of every other kind, empty.
 */
export function encodeClusterMessage(
  announcement: Announcement,
  from: MessageOrigin,
  auth: MessageAuthenticator,
): string {
  let ids = '';
  let version = 0;
  let payload = '';
  switch (announcement.kind) {
    case 'update': {
      const { touchedAt, deadline, user, maxAge, set, removed } = announcement.change;
      const unchanged = <V>(value: V | undefined) => (value === undefined ? 0 : value);
      payload = JSON.stringify([
        touchedAt,
        deadline,
        unchanged(user),
        unchanged(maxAge),
        set,
        removed,
      ]);
      ({ id: ids, version } = announcement);
      break;
    }
    case 'invalidate':
      ({ id: ids, version } = announcement);
      break;
    case 'destroy':
      ids = announcement.ids.join(',');
      break;
  }
  const body = `ncs3|${CODES[announcement.kind]}|${ids}|${version}|${from.origin}|${from.epoch}|${from.seq}|${from.sentAt}|${payload}`;
  return `${body}|${auth.sign(body)}`;
}

/**
 * Parses and authenticates a message: `ncs3` (above), or `ncs2|kind|ids|version|origin|epoch|
 * seq|ts_us|mac` / `ncs1|…` from nodes of earlier versions, whose scripts signed them. Anything
 * else, including a valid-looking message with a bad MAC, is `null`: untrusted input never throws.
 */
export function parseClusterMessage(
  raw: unknown,
  auth: MessageAuthenticator,
): ClusterMessage | null {
  if (typeof raw !== 'string' || raw.length > MAX_MESSAGE_LENGTH) {
    return null;
  }
  if (raw.startsWith('ncs3|')) {
    return parseSigned(raw, auth);
  }
  const cut = raw.lastIndexOf('|');
  const body = raw.slice(0, cut);
  const parts = body.split('|');
  if (cut < 0 || parts.length !== 8 || (parts[0] !== 'ncs2' && parts[0] !== 'ncs1')) {
    return null;
  }
  const [, kindCode, ids, version, origin, epoch, seq, ts] = parts;
  if (kindCode === 'u' || !auth.verify(body, raw.slice(cut + 1))) {
    return null;
  }
  // the script's Redis clock, in µs
  return build({
    kindCode,
    ids,
    version,
    origin,
    epoch,
    seq,
    sentAt: ts.slice(0, -3),
    payload: '',
  });
}

function parseSigned(raw: string, auth: MessageAuthenticator): ClusterMessage | null {
  const cut = raw.lastIndexOf('|');
  const body = raw.slice(0, cut);
  // the eight fields before the payload contain no "|"; the payload (JSON) may
  const parts = body.split('|', 8);
  if (parts.length !== 8 || !auth.verify(body, raw.slice(cut + 1))) {
    return null;
  }
  const payload = body.slice(parts.join('|').length + 1);
  const [, kindCode, ids, version, origin, epoch, seq, sentAt] = parts;
  return build({ kindCode, ids, version, origin, epoch, seq, sentAt, payload });
}

interface Fields {
  kindCode: string;
  ids: string;
  version: string;
  origin: string;
  epoch: string;
  seq: string;
  sentAt: string;
  payload: string;
}

function build(fields: Fields): ClusterMessage | null {
  const kind = KINDS[fields.kindCode as keyof typeof KINDS];
  const { version, origin, epoch, seq, sentAt } = fields;
  if (!kind || !DIGITS.test(version) || !DIGITS.test(seq) || !DIGITS.test(sentAt)) {
    return null;
  }
  if (!NODE_ID.test(origin) || !EPOCH.test(epoch)) {
    return null;
  }
  const ids = fields.ids === '' ? [] : fields.ids.split(',');
  if (!ids.every(isSessionId)) {
    return null;
  }
  const from = { origin, epoch, seq: Number(seq), sentAt: Number(sentAt) };
  const v = Number(version);
  switch (kind) {
    case 'update': {
      if (ids.length !== 1 || v < 2) {
        return null;
      }
      // signed by a node of this app, but a change this node cannot read: it still says that
      // version v exists, so it invalidates (dropping it would leave copies stale, G2)
      const change = parseChange(fields.payload);
      return change
        ? { kind, id: ids[0], version: v, change, ...from }
        : { kind: 'invalidate', id: ids[0], version: v, ...from };
    }
    case 'invalidate':
      return ids.length === 1 && v > 0 ? { kind, id: ids[0], version: v, ...from } : null;
    case 'destroy':
      return ids.length >= 1 ? { kind, ids, ...from } : null;
    default:
      return ids.length === 0 ? { kind, ...from } : null;
  }
}

/** The payload of an update, validated field by field (it is signed, but still outside input). */
function parseChange(payload: string): SessionChange | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 6) {
    return null;
  }
  const [touchedAt, deadline, user, maxAge, set, removed] = parsed as unknown[];
  const field = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
  const valid =
    Number.isSafeInteger(touchedAt) &&
    (touchedAt as number) > 0 &&
    Number.isSafeInteger(deadline) &&
    (deadline as number) > 0 &&
    (user === 0 || user === null || (typeof user === 'string' && user.length > 0)) &&
    (maxAge === 0 || maxAge === null || (Number.isSafeInteger(maxAge) && (maxAge as number) > 0)) &&
    Array.isArray(set) &&
    set.every(
      (pair) =>
        Array.isArray(pair) && pair.length === 2 && field(pair[0]) && typeof pair[1] === 'string',
    ) &&
    Array.isArray(removed) &&
    removed.every(field);
  if (!valid) {
    return null;
  }
  return {
    touchedAt: touchedAt as number,
    deadline: deadline as number,
    ...(user === 0 ? {} : { user: user as string | null }),
    ...(maxAge === 0 ? {} : { maxAge: maxAge as number | null }),
    set: set as [string, string][],
    removed: removed as string[],
  };
}

/**
 * The origin a message that failed verification claims, for a log line: only when it looks like
 * a node id (a forger chooses it: no line breaks, nothing long), else `(unreadable)`.
 */
export function claimedOrigin(raw: string): string {
  const claimed = raw.split('|', 5)[4] ?? '';
  return /^[\w.:@-]{1,64}$/.test(claimed) ? claimed : '(unreadable)';
}
