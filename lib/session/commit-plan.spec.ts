import { planCommit, type CommitFacts } from './commit-plan';

/** A loaded, stored session that nothing happened to, read within touchAfter. */
const QUIET: CommitFacts = {
  ended: null,
  loaded: true,
  isNew: false,
  modified: () => false,
  received: true,
  resign: false,
  regenerated: false,
  written: false,
  retired: false,
  touchRequested: false,
  touchDue: false,
  saveUninitialized: false,
  rolling: false,
};

describe('planCommit', () => {
  it.each<[string, Partial<CommitFacts>, ReturnType<typeof planCommit>]>([
    ['a quiet read', {}, { kind: 'nothing' }],
    [
      'no session (never loaded, or the read failed)',
      { loaded: false, modified: () => true },
      { kind: 'nothing' },
    ],
    [
      "this request's destroy()",
      { ended: 'destroyed', modified: () => true },
      { kind: 'clear-cookie' },
    ],
    [
      'destroy() of a session started by this request, no cookie',
      { ended: 'destroyed', received: false },
      { kind: 'nothing' },
    ],
    [
      'destroy() after a regenerate of a new session',
      { ended: 'destroyed', received: false, regenerated: true },
      { kind: 'clear-cookie' },
    ],
    [
      'a session found gone: the cookie may be a concurrent login',
      { ended: 'gone', modified: () => true },
      { kind: 'nothing' },
    ],
    ['a change', { modified: () => true }, { kind: 'save' }],
    ['a change after a regenerate', { modified: () => true, regenerated: true }, { kind: 'save' }],
    ['an untouched new session', { isNew: true, received: false }, { kind: 'nothing' }],
    [
      'an untouched new session with saveUninitialized',
      { isNew: true, saveUninitialized: true },
      { kind: 'save' },
    ],
    [
      'an empty session after express-session regenerate() deleted the old',
      { isNew: true, retired: true },
      { kind: 'clear-cookie' },
    ],
    ['stored by regenerate()', { regenerated: true }, { kind: 'set-cookie' }],
    ['stored by an explicit save()', { written: true }, { kind: 'set-cookie' }],
    ['touchAfter passed', { touchDue: true }, { kind: 'touch', resend: false }],
    ["express-session's touch()", { touchRequested: true }, { kind: 'touch', resend: false }],
    ['rolling', { rolling: true }, { kind: 'touch', resend: true }],
    ['a cookie signed with a retired secret', { resign: true }, { kind: 'touch', resend: true }],
  ])('%s', (_case, facts, plan) => {
    expect(planCommit({ ...QUIET, ...facts })).toEqual(plan);
  });

  it('asks whether the data changed only when the outcome depends on it', () => {
    const unstorable = () => {
      throw new Error('a BigInt cannot be serialized');
    };
    expect(planCommit({ ...QUIET, ended: 'destroyed', modified: unstorable })).toEqual({
      kind: 'clear-cookie',
    });
    expect(
      planCommit({ ...QUIET, isNew: true, saveUninitialized: true, modified: unstorable }),
    ).toEqual({ kind: 'save' });
    expect(() => planCommit({ ...QUIET, modified: unstorable })).toThrow(/BigInt/);
  });
});
