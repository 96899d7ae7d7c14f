import type { SessionHandle } from '../session/session-handle';

/** The request as either platform hands it to Nest (Express request, or Fastify request with `raw`). */
export interface HttpRequestLike {
  headers: Record<string, string | string[] | undefined>;
  protocol?: string;
  session?: SessionHandle;
  raw?: { session?: SessionHandle };
}

/** The response as either platform hands it to Nest. */
export interface HttpResponseLike {
  raw?: unknown;
  header?(name: string, value: string): unknown;
  getHeader?(name: string): number | string | string[] | undefined;
  setHeader?(name: string, value: string | string[]): unknown;
}

/** The request's session handle, on Express (`req.session`) or Fastify (`req.raw.session`). */
export function sessionOf(request: HttpRequestLike): SessionHandle | undefined {
  return request.session ?? request.raw?.session;
}

/** Adds a Set-Cookie header without dropping others, on either platform. */
export function appendSetCookie(response: HttpResponseLike, value: string): void {
  if (response.raw !== undefined && typeof response.header === 'function') {
    response.header('set-cookie', value); // Fastify appends set-cookie values
    return;
  }
  const previous = response.getHeader?.('Set-Cookie');
  const values =
    previous === undefined ? [] : Array.isArray(previous) ? previous : [String(previous)];
  response.setHeader?.('Set-Cookie', [...values, value]);
}
