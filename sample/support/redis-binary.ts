import { spawnSync } from 'node:child_process';

const INSTALL_HINT =
  'install it first: `sudo apt-get install -y redis-server` (Debian/Ubuntu), ' +
  '`brew install redis` (macOS), or set REDIS_SERVER_BIN to its path';

/** Path of the redis-server binary, or a clear error saying how to install one. */
export function findRedisServer(bin = process.env.REDIS_SERVER_BIN ?? 'redis-server'): string {
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `redis-server not found (tried "${bin}"): the tests and the sample run a private Redis; ${INSTALL_HINT}`,
    );
  }
  return bin;
}
