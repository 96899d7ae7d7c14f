import { randomBytes } from 'node:crypto';
import { RedisServer } from './support/redis-server';
import { SampleProcess } from './support/sample-process';

/**
 * `npm run demo`: three sample nodes on one private Redis. Logs in on node 1, reads on node 2,
 * changes the session on node 3, logs out on node 1, and prints what each node answered, its
 * cache statistics and the invalidation lag it measured.
 */
async function main(): Promise<void> {
  const redis = await RedisServer.start();
  const secret = randomBytes(32).toString('base64url');
  const nodes: SampleProcess[] = [];
  try {
    for (let i = 1; i <= 3; i++) {
      nodes.push(
        await SampleProcess.start({
          REDIS_URL: redis.url,
          SESSION_SECRET: secret,
          NODE_ID: `node-${i}`,
        }),
      );
    }
    let cookie: string | undefined;
    const rows: string[][] = [];
    const call = async (node: number, method: string, path: string, body?: unknown) => {
      const response = await fetch(nodes[node - 1].url + path, {
        method,
        headers: {
          ...(cookie ? { cookie } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      const setCookie = response.headers.getSetCookie()[0];
      if (setCookie) {
        cookie = /Expires=Thu, 01 Jan 1970/.test(setCookie) ? undefined : setCookie.split(';')[0];
      }
      const answer = await response.text();
      rows.push([
        `node-${node}`,
        `${method} ${path}${body ? ` ${JSON.stringify(body)}` : ''}`,
        String(response.status),
        answer,
      ]);
    };

    await call(1, 'POST', '/login', { username: 'ann' });
    await call(2, 'GET', '/me');
    await call(3, 'PATCH', '/me', { theme: 'dark' });
    await call(2, 'POST', '/visit');
    await call(1, 'GET', '/me');
    await call(2, 'GET', '/me');
    await call(3, 'GET', '/me');
    const loggedIn = cookie;
    await call(1, 'POST', '/logout');
    cookie = loggedIn; // replay the old cookie everywhere: the session must be gone on every node
    await call(2, 'GET', '/me');
    await call(3, 'GET', '/me');

    console.log('\nWhat each node answered (one client, one cookie):\n');
    console.log(table(['node', 'request', 'status', 'answer'], rows));

    const stats: string[][] = [];
    for (const [i, node] of nodes.entries()) {
      const health = (await (await fetch(`${node.url}/health`)).json()) as {
        details: { session: SessionHealth };
      };
      const session = health.details.session;
      const lag = session.invalidationLagMs ?? { p50: null, p99: null };
      stats.push([
        `node-${i + 1}`,
        session.subscriber,
        String(session.cache.hits),
        String(session.cache.misses),
        `${Math.round(session.cache.hitRate * 100)} %`,
        lag.p50 === null || lag.p99 === null
          ? '-'
          : `${lag.p50.toFixed(2)} / ${lag.p99.toFixed(2)} ms`,
      ]);
    }
    console.log('\nEach node afterwards:\n');
    console.log(
      table(
        ['node', 'subscriber', 'cache hits', 'misses', 'hit rate', 'invalidation lag p50 / p99'],
        stats,
      ),
    );
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    await redis.dispose();
  }
}

interface SessionHealth {
  subscriber: string;
  cache: { hits: number; misses: number; hitRate: number };
  invalidationLagMs?: { p50: number | null; p99: number | null };
}

function table(header: string[], rows: string[][]): string {
  const clip = (cell: string) => (cell.length > 70 ? `${cell.slice(0, 67)}...` : cell);
  const all = [header, ...rows].map((row) => row.map(clip));
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c].length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return [
    line(all[0]),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...all.slice(1).map(line),
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
