/** Origins remembered; beyond this the map is reset (the next message of each is a new baseline). */
const MAX_ORIGINS = 1_024;

/**
 * Per-origin sequence numbers: each origin (node id + epoch) numbers its messages 1, 2, 3…
 * A number other than the next one means a message was lost or reordered.
 */
export class SequenceTracker {
  private readonly last = new Map<string, number>();

  /** `first` for a new origin, `next` in order, `gap` when anything was skipped or reordered. */
  observe(origin: string, epoch: string, seq: number): 'first' | 'next' | 'gap' {
    const key = `${origin}|${epoch}`;
    const previous = this.last.get(key);
    if (previous === undefined && this.last.size >= MAX_ORIGINS) this.last.clear();
    this.last.set(key, Math.max(seq, previous ?? 0));
    if (previous === undefined) return 'first';
    return seq === previous + 1 ? 'next' : 'gap';
  }

  /** Forgets every origin; after a resubscription every sequence starts a new baseline. */
  reset(): void {
    this.last.clear();
  }
}
