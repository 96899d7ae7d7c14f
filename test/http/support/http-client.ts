/** The session id a `name=value` session cookie names: the part of its value before the signature. */
export function sessionIdOf(cookie: string): string {
  return decodeURIComponent(cookie.split('=')[1]).split(/[:.]/)[0];
}

/** What a request answered. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  setCookies: string[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- whatever JSON the route sent
  json: any;
}

/**
 * fetch with one cookie jar, like a browser tab. (Its types are spelled out: inferred, they would
 * name undici's, which a declaration cannot always reach.)
 */
export class HttpClient {
  cookie?: string;

  constructor(private readonly baseUrl: string) {}

  /** The session id the cookie names (the part before its signature), if it holds one. */
  get sessionId(): string | undefined {
    return this.cookie && sessionIdOf(this.cookie);
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer> {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const setCookies = response.headers.getSetCookie();
    for (const header of setCookies) {
      const [pair] = header.split(';');
      if (/expires=Thu, 01 Jan 1970/i.test(header)) {
        this.cookie = undefined;
      } else {
        this.cookie = pair;
      }
    }
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      setCookies,
      json: text ? JSON.parse(text) : undefined,
    };
  }

  get = (path: string, headers?: Record<string, string>): Promise<HttpAnswer> =>
    this.request('GET', path, undefined, headers);
  post = (
    path: string,
    body: unknown = {},
    headers?: Record<string, string>,
  ): Promise<HttpAnswer> => this.request('POST', path, body, headers);
  patch = (
    path: string,
    body: unknown = {},
    headers?: Record<string, string>,
  ): Promise<HttpAnswer> => this.request('PATCH', path, body, headers);
}
