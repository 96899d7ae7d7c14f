import { isSessionId } from '../session/session-id.util';
import type { MessageAuthenticator } from './message-auth';

/** One invalidation on the channel, as published by a write script. */
export interface ClusterMessage {
  /** `invalidate`: a new version of the session exists; `destroy`: the sessions are gone; `clear`: drop every cache; `noop`: keeps the sequence. */
  kind: 'invalidate' | 'destroy' | 'clear' | 'noop';
  ids: string[];
  /** New version (`invalidate`), else 0. */
  version: number;
  origin: string;
  /** Random per process start of the origin, so a restarted node starts a new sequence. */
  epoch: string;
  seq: number;
  /** Redis clock when published, epoch microseconds. */
  sentAtUs: number;
}

const KINDS = { i: 'invalidate', d: 'destroy', c: 'clear', n: 'noop' } as const;
const MAX_MESSAGE_LENGTH = 1 << 20;
const NODE_ID = /^[^\s|,]{1,128}$/;
const DIGITS = /^\d{1,16}$/;

/**
 * Parses and authenticates `ncs2|kind|ids|version|origin|epoch|seq|ts_us|mac` (or `ncs1|…`, from
 * nodes of earlier versions: see MessageAuthenticator). Anything else,
 * including a valid-looking message with a bad MAC, is `null`: untrusted input never throws.
 */
export function parseClusterMessage(
  raw: unknown,
  auth: MessageAuthenticator,
): ClusterMessage | null {
  if (typeof raw !== 'string' || raw.length > MAX_MESSAGE_LENGTH) {
    return null;
  }
  const cut = raw.lastIndexOf('|');
  const body = raw.slice(0, cut);
  const parts = body.split('|');
  if (cut < 0 || parts.length !== 8 || (parts[0] !== 'ncs2' && parts[0] !== 'ncs1')) {
    return null;
  }
  const [, kindCode, idList, version, origin, epoch, seq, ts] = parts;
  const kind = KINDS[kindCode as keyof typeof KINDS];
  if (!kind || !DIGITS.test(version) || !DIGITS.test(seq) || !DIGITS.test(ts)) {
    return null;
  }
  if (!NODE_ID.test(origin) || !/^[0-9a-f]{16,64}$/.test(epoch)) {
    return null;
  }
  const ids = idList === '' ? [] : idList.split(',');
  const idsExpected =
    kind === 'invalidate'
      ? ids.length === 1
      : kind === 'destroy'
        ? ids.length >= 1
        : ids.length === 0;
  if (!idsExpected || !ids.every(isSessionId)) {
    return null;
  }
  if (!auth.verify(body, raw.slice(cut + 1))) {
    return null;
  }
  return {
    kind,
    ids,
    version: Number(version),
    origin,
    epoch,
    seq: Number(seq),
    sentAtUs: Number(ts),
  };
}
