/**
 * Origins remembered (a node id and process epoch each: restarts add origins). Beyond this the
 * one heard from least recently is forgotten (its next message, if any, is a new baseline), not
 * every origin at once: a gap of an origin still writing is never dropped for it. Forgetting one
 * with a number still missing (inside its reorder window) reports that gap at once.
 */
export const MAX_ORIGINS = 1_024;

/**
 * How far past the last number in order a number may be and still be adopted when its hole is
 * given up on: more than any one process publishes within a reorder window (10,000 in 250 ms is
 * 40,000 messages a second from one process).
 */
export const MAX_JUMP = 10_000;

interface OriginState {
  /** Every number up to this one has arrived. */
  contiguous: number;
  /** Numbers above `contiguous` that arrived early. */
  ahead: Set<number>;
  /** When the oldest missing number was first noticed missing (0: nothing missing). */
  missingSince: number;
}

/**
 * Per-origin sequence numbers: each origin (node id + epoch) numbers its messages 1, 2, 3…
 *
 * With `reorderWindowMs` 0 (one Redis, which delivers one origin's messages in order) any
 * number other than the next one is a gap. On Redis Cluster an origin's messages are published
 * on different shards and reach a subscriber over different links, so they may arrive out of
 * order: a missing number is then a gap only if it has not arrived `reorderWindowMs` after it
 * was first missed (checked on every message and by {@link expired}).
 */
export class SequenceTracker {
  private readonly origins = new Map<string, OriginState>();

  constructor(private readonly reorderWindowMs = 0) {}

  /** `first` for a new origin, `next` when nothing is missing (or not yet for long), `gap` otherwise. */
  observe(origin: string, epoch: string, seq: number, now = Date.now()): 'first' | 'next' | 'gap' {
    const key = `${origin}|${epoch}`;
    const state = this.origins.get(key);
    if (state === undefined) {
      let dropped = false;
      if (this.origins.size >= MAX_ORIGINS) {
        // the Map keeps insertion order, and every message moves its origin to the end
        const [oldest, forgotten] = this.origins.entries().next().value as [string, OriginState];
        this.origins.delete(oldest);
        dropped = forgotten.missingSince !== 0;
      }
      this.origins.set(key, { contiguous: seq, ahead: new Set(), missingSince: 0 });
      return dropped ? 'gap' : 'first';
    }
    this.origins.delete(key);
    this.origins.set(key, state);
    if (seq <= state.contiguous) {
      return this.reorderWindowMs > 0 ? 'next' : 'gap';
    }
    if (seq === state.contiguous + 1) {
      state.contiguous = seq;
      while (state.ahead.delete(state.contiguous + 1)) {
        state.contiguous++;
      }
      state.missingSince = state.ahead.size > 0 ? now : 0;
      return 'next';
    }
    if (this.reorderWindowMs === 0) {
      state.contiguous = seq;
      return 'gap';
    }
    state.ahead.add(seq);
    if (state.missingSince === 0) {
      state.missingSince = now;
    }
    return this.expire(state, now) ? 'gap' : 'next';
  }

  /** True when some origin's missing number is now overdue (each gap is reported once). */
  expired(now = Date.now()): boolean {
    let gap = false;
    for (const state of this.origins.values()) {
      gap = this.expire(state, now) || gap;
    }
    return gap;
  }

  /** Forgets every origin; after a resubscription every sequence starts a new baseline. */
  reset(): void {
    this.origins.clear();
  }

  private expire(state: OriginState, now: number): boolean {
    if (state.missingSince === 0 || now - state.missingSince < this.reorderWindowMs) {
      return false;
    }
    // give up on what is missing: continue from the run of numbers that arrived in order after
    // the first hole. Only a run is adopted far ahead (past MAX_JUMP, an origin that went on
    // after a long loss sends one), never a lone number, as a forged one would be: every later
    // gap of this origin below it would go unseen (G4). Numbers past the run that are near it
    // stay, their own holes still in their window.
    const ahead = [...state.ahead].sort((x, y) => x - y);
    const start =
      ahead.find((seq) => seq - state.contiguous <= MAX_JUMP) ??
      ahead.find((seq) => state.ahead.has(seq + 1));
    if (start !== undefined) {
      let end = start;
      while (state.ahead.has(end + 1)) {
        end++;
      }
      state.contiguous = end;
    }
    for (const seq of ahead) {
      if (seq <= state.contiguous || seq - state.contiguous > MAX_JUMP) {
        state.ahead.delete(seq);
      }
    }
    state.missingSince = state.ahead.size > 0 ? now : 0;
    return true;
  }
}
