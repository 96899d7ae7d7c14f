import { csrfSync } from 'csrf-sync';

/** csrf-sync's synchroniser-token pattern: the token is stored in `req.session.csrfToken`. */
export const csrf = csrfSync();
