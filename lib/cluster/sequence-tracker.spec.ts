import { MAX_JUMP, MAX_ORIGINS, SequenceTracker } from './sequence-tracker';

describe('SequenceTracker', () => {
  it('in order only (one Redis): anything but the next number is a gap', () => {
    const tracker = new SequenceTracker();
    expect(tracker.observe('a', 'e', 1)).toBe('first');
    expect(tracker.observe('a', 'e', 2)).toBe('next');
    expect(tracker.observe('a', 'e', 4)).toBe('gap');
    expect(tracker.observe('a', 'e', 5)).toBe('next');
    expect(tracker.observe('a', 'e', 3)).toBe('gap'); // late counts as lost
    expect(tracker.observe('b', 'e', 9)).toBe('first');
    expect(tracker.observe('a', 'f', 1)).toBe('first'); // a new epoch is a new origin
  });

  it('with a reorder window (Redis Cluster): reordering within the window is no gap', () => {
    const tracker = new SequenceTracker(100);
    expect(tracker.observe('a', 'e', 1, 0)).toBe('first');
    expect(tracker.observe('a', 'e', 3, 10)).toBe('next');
    expect(tracker.observe('a', 'e', 4, 20)).toBe('next');
    expect(tracker.expired(50)).toBe(false);
    expect(tracker.observe('a', 'e', 2, 60)).toBe('next'); // 2 arrived late: nothing missing now
    expect(tracker.expired(1_000)).toBe(false);
    expect(tracker.observe('a', 'e', 5, 1_000)).toBe('next');
  });

  it('with a reorder window: a number still missing after the window is one gap', () => {
    const tracker = new SequenceTracker(100);
    tracker.observe('a', 'e', 1, 0);
    expect(tracker.observe('a', 'e', 3, 10)).toBe('next');
    expect(tracker.expired(109)).toBe(false);
    expect(tracker.expired(110)).toBe(true);
    expect(tracker.expired(500)).toBe(false); // reported once
    expect(tracker.observe('a', 'e', 4, 600)).toBe('next'); // continues after the highest seen
    expect(tracker.observe('a', 'e', 6, 700)).toBe('next');
    expect(tracker.observe('a', 'e', 7, 900)).toBe('gap'); // 5 overdue, noticed on a message
  });

  it('reset forgets every origin', () => {
    const tracker = new SequenceTracker(100);
    tracker.observe('a', 'e', 1, 0);
    tracker.observe('a', 'e', 3, 0);
    tracker.reset();
    expect(tracker.expired(1_000)).toBe(false);
    expect(tracker.observe('a', 'e', 7, 1_000)).toBe('first');
  });

  it('past MAX_ORIGINS forgets the origin heard from least recently, and still sees the gaps of the others', () => {
    const tracker = new SequenceTracker();
    tracker.observe('busy', 'e', 1);
    for (let i = 0; i < MAX_ORIGINS - 1; i++) {
      tracker.observe(`restarted-${i}`, 'e', 1);
    }
    tracker.observe('busy', 'e', 2); // heard from lately
    tracker.observe('one-more', 'e', 1); // the map is full: the oldest silent one goes
    expect(tracker.observe('busy', 'e', 4)).toBe('gap'); // 3 was lost, and it is noticed
    expect(tracker.observe('restarted-0', 'e', 5)).toBe('first'); // forgotten: a new baseline
  });

  it('#26: a number far ahead (a forged one) is not adopted when the window passes: later gaps are still seen', () => {
    const tracker = new SequenceTracker(100);
    tracker.observe('a', 'e', 1, 0);
    expect(tracker.observe('a', 'e', 1_000_000, 10)).toBe('next'); // 2… missing, within the window
    expect(tracker.observe('a', 'e', 2, 20)).toBe('next'); // the real ones go on
    expect(tracker.observe('a', 'e', 3, 30)).toBe('next');
    expect(tracker.expired(200)).toBe(true); // 4… to 999,999 never came: one gap
    expect(tracker.observe('a', 'e', 4, 300)).toBe('next'); // back in step with the real numbers
    expect(tracker.observe('a', 'e', 6, 400)).toBe('next'); // a real loss (5)…
    expect(tracker.expired(600)).toBe(true); // …is seen, not hidden below 1,000,000
  });

  it('#26: after a gap, continues from the run that followed the hole; numbers past it stay, their holes still in their window', () => {
    const tracker = new SequenceTracker(100);
    tracker.observe('a', 'e', 1, 0);
    for (const seq of [3, 4, 5, 7, 8]) {
      tracker.observe('a', 'e', seq, 10); // 2 lost; 6 late
    }
    expect(tracker.expired(200)).toBe(true); // 2: one gap
    expect(tracker.observe('a', 'e', 6, 210)).toBe('next'); // 6 arrives: 7 and 8 were kept
    expect(tracker.observe('a', 'e', 9, 220)).toBe('next');
    expect(tracker.expired(1_000)).toBe(false); // no second, spurious gap
    expect(tracker.observe('a', 'e', 11, 1_000)).toBe('next'); // 10 lost…
    expect(tracker.expired(1_200)).toBe(true); // …seen
  });

  it('#26: an origin that goes on after more than MAX_JUMP lost numbers is caught up with, after one gap', () => {
    const tracker = new SequenceTracker(100);
    tracker.observe('a', 'e', 1, 0);
    let now = 10;
    let gaps = 0;
    for (let seq = MAX_JUMP + 2_000; seq < MAX_JUMP + 2_400; seq++, now += 5) {
      if (tracker.observe('a', 'e', seq, now) === 'gap' || tracker.expired(now)) {
        gaps++;
      }
    }
    expect(gaps).toBe(1);
  });

  it('#26: forgetting an origin with a number still missing reports that gap, not a silent new baseline', () => {
    const tracker = new SequenceTracker(100);
    tracker.observe('lossy', 'e', 1, 1_000);
    tracker.observe('lossy', 'e', 3, 1_000); // 2 missing, within the window
    for (let i = 0; i < MAX_ORIGINS - 1; i++) {
      tracker.observe(`other-${i}`, 'e', 1, 1_001);
    }
    expect(tracker.observe('one-more', 'e', 1, 1_002)).toBe('gap'); // 'lossy' forgotten, its gap with it
    expect(tracker.observe('another', 'e', 1, 1_003)).toBe('first'); // 'other-0' had nothing missing
  });
});
