import { findRedisServer } from '../../sample/support/redis-binary';

/** Fails the end-to-end run at once, with install instructions, when redis-server is missing. */
export default function globalSetup(): void {
  findRedisServer();
}
