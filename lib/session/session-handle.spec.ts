import type { SessionStore } from '../store/session-store';
import { SessionHandle } from './session-handle';

/** What users write: an interface, which has no index signature (#16 item 1). */
interface MySession {
  username?: string;
  cart?: string[];
}

const OPTIONS = {
  ttl: 3_600_000,
  touchAfter: 60_000,
  saveUninitialized: false,
  rolling: false,
  absoluteTimeout: 86_400_000,
  cookie: {
    name: 'sid',
    path: '/',
    httpOnly: true,
    secure: 'auto' as const,
    sameSite: 'lax' as const,
  },
};

describe('SessionHandle', () => {
  it('takes an ordinary interface as its data type', () => {
    // a request without a cookie: no store call is made
    const handle = new SessionHandle<MySession>({} as SessionStore<MySession>, null, OPTIONS);
    expect(handle.loadSync()).toBe(true);
    handle.set('cart', ['book']);
    handle.set('username', 'ann');
    expect(handle.get('cart')).toEqual(['book']);
    expect(handle.data).toEqual({ cart: ['book'], username: 'ann' });
    expect(handle.isModified).toBe(true);
  });
});
