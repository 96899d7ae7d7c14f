import { createServer } from 'node:net';

/** Ports this process has handed out: two concurrent probes must not get the same one. */
const given = new Set<number>();

/** A TCP port that was free on 127.0.0.1 a moment ago and not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await probe();
    if (!given.has(port)) {
      given.add(port);
      return port;
    }
  }
}

function probe(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') {
          resolve(address.port);
        } else {
          reject(new Error('could not read the port of a probe server'));
        }
      });
    });
  });
}
