import { inspect } from 'node:util';
import { generateSessionId } from '../session/session-id.util';
import { SessionTooLargeError } from './session-too-large.error';

describe('SessionTooLargeError', () => {
  it('keeps the session id for the caller, but out of what loggers print', () => {
    const id = generateSessionId();
    const error = new SessionTooLargeError(id, 70_000, 65_536);
    expect(error.sessionId).toBe(id);
    expect(error.message).toMatch(
      /^session #\S{10} is 68 KB, limit 64 KB \(option maxSessionBytes\)/,
    );
    for (const printed of [JSON.stringify(error), inspect(error), error.stack ?? '']) {
      expect(printed).not.toContain(id);
    }
  });
});
