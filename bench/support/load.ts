import autocannon from 'autocannon';

/** The write mixes the HTTP and several-nodes benchmarks compare: shares of requests that write. */
export const WRITE_SHARES = [0.05, 0.2, 0.5, 1] as const;

/** A write share as the tables print it: "5 %". */
export const percent = (share: number) => `${Math.round(share * 100)} %`;

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

/**
 * The benchmark's traffic against one base URL: each request carries one of `cookies` at random,
 * and is `POST /visit` (a session write) with probability `writeShare` (5 % by default) and
 * `GET /me` otherwise; or, given `path`, always `GET path`.
 */
export async function load(
  url: string,
  cookies: string[],
  seconds: number,
  connections = 20,
  path?: string,
  writeShare = 0.05,
): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        setupRequest: (request: autocannon.Request) => {
          const cookie = cookies[Math.floor(Math.random() * cookies.length)];
          const visit = path === undefined && Math.random() < writeShare;
          return {
            ...request,
            method: visit ? 'POST' : 'GET',
            path: path ?? (visit ? '/visit' : '/me'),
            headers: {
              ...request.headers,
              ...(cookie ? { cookie } : {}),
              ...(visit ? { 'content-type': 'application/json' } : {}),
            },
            body: visit ? '{}' : undefined,
          } as autocannon.Request;
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / seconds,
    p99Ms: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

/** Logs `count` users in through `POST /login` and returns their cookies. */
export async function loginMany(url: string, count: number): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: `user${i}` }),
    });
    const cookie = response.headers.getSetCookie()[0]?.split(';')[0];
    if (!cookie) {
      throw new Error(`login ${i} at ${url} set no cookie (status ${response.status})`);
    }
    cookies.push(cookie);
  }
  return cookies;
}
