/**
 * Base class of every error this module throws, so callers can catch them as one family.
 *
 * @publicApi
 */
export class ClusterSessionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
