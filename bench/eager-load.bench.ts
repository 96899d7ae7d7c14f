import { RedisServer } from '../sample/support/redis-server';
import { distScript, SampleProcess } from '../sample/support/sample-process';
import { load, type LoadResult } from './support/load';
import { pin } from './support/pin';
import { clientCommands } from './support/redis-commands';

const SECRET = 'bench-secret-that-is-at-least-32-characters';
const SESSIONS = 1_000;
const ROUNDS = 3;
const SECONDS = 5;

/**
 * What loading the session before middleware costs a route that does not use it (#15): the
 * same sessionless route (`GET /m/plain` of the peer app on this module) under the same load,
 * with a valid session cookie (the session is loaded: a local cache hit) and without one (nothing
 * to load, as every sessionless route was before). App on CPU 0, Redis and load on CPU 1;
 * interleaved rounds. With the app's core saturated, 1e6 / (requests/s) is its CPU per request.
 */
export async function eagerLoadBench(): Promise<string[]> {
  const pinned = pin(process.pid, 1);
  const redis = await RedisServer.start();
  pin(redis.pid, 1);
  const app = await SampleProcess.start(
    { REDIS_URL: redis.url, SESSION_SECRET: SECRET, STACK: 'cluster-session' },
    { ready: 'listening', script: distScript('bench', 'peers', 'peer.main.js') },
  );
  pin(app.pid, 0);
  const runs: Record<'cookie' | 'none', LoadResult[]> = { cookie: [], none: [] };
  let commands = 0;
  try {
    const cookies: string[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const response = await fetch(`${app.url}/m/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: `user${i}` }),
      });
      cookies.push(response.headers.getSetCookie()[0].split(';')[0]);
    }
    const cases = { cookie: cookies, none: [''] };
    for (const list of Object.values(cases)) {
      await load(app.url, list, 2, 20, '/m/plain');
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order: ('cookie' | 'none')[] =
        round % 2 === 0 ? ['cookie', 'none'] : ['none', 'cookie'];
      for (const name of order) {
        const before = await clientCommands(redis);
        runs[name].push(await load(app.url, cases[name], SECONDS, 20, '/m/plain'));
        if (name === 'cookie') {
          commands += (await clientCommands(redis)) - before;
        }
      }
    }
  } finally {
    await app.stop();
    await redis.dispose();
    pin(process.pid, 'all');
  }
  const rate = (list: LoadResult[]) =>
    list.reduce((sum, run) => sum + run.requests, 0) / (list.length * SECONDS);
  const [withCookie, without] = [rate(runs.cookie), rate(runs.none)];
  const usPerRequest = (perSecond: number) => 1e6 / perSecond;
  const requests = runs.cookie.reduce((sum, run) => sum + run.requests, 0);
  return [
    `Eager load: GET /m/plain (a route that does not use the session), ${ROUNDS} interleaved rounds of ${SECONDS} s${pinned ? ', app on CPU 0' : ''}`,
    `  without a cookie (nothing to load):   ${Math.round(without).toLocaleString('en-US')} requests/s, ${usPerRequest(without).toFixed(0)} µs of app CPU per request`,
    `  with a valid cookie (loaded, a hit):  ${Math.round(withCookie).toLocaleString('en-US')} requests/s, ${usPerRequest(withCookie).toFixed(0)} µs per request`,
    `  cost of loading: ${(usPerRequest(withCookie) - usPerRequest(without)).toFixed(0)} µs per request ` +
      `(${(without / withCookie).toFixed(3)}× the time), ${(commands / requests).toFixed(4)} Redis commands per request`,
  ];
}
