import { randomUUID } from 'node:crypto';
import { maskSecrets } from '../util/mask-secrets.js';

/** Graph gives an endpoint 10 seconds to answer its validation handshake. */
export const GRAPH_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Why an endpoint would fail Graph's validation handshake. */
export type EndpointFailure =
  | 'unauthorized' // 401/403: the function key (?code=) is wrong or missing
  | 'not-found' // 404: wrong host path, or the app is not deployed
  | 'http-status' // any other non-200 status
  | 'wrong-content-type' // 200 but not text/plain
  | 'wrong-body' // 200 text/plain but not the token
  | 'timeout' // no complete answer within the timeout
  | 'connection-refused' // nothing listens there
  | 'unreachable' // DNS, TLS or another network error
  | 'invalid-url';

export interface EndpointCheckResult {
  /** Which setting the URL came from, e.g. GRAPH_NOTIFICATION_URL. */
  readonly name: string;
  /** The URL checked, its `code=` key masked. */
  readonly url: string;
  readonly ok: boolean;
  readonly failure?: EndpointFailure;
  /** HTTP status, when an answer came back. */
  readonly status?: number;
  /** What came back, for a person: never the key. */
  readonly detail: string;
}

export interface EndpointCheckOptions {
  /** Longest wait for the complete answer (Graph: 10 s). */
  readonly timeoutMs?: number;
}

/** The token Graph sends: it contains spaces and a colon, so the endpoint must URL-decode it. */
function validationToken(): string {
  return `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
}

/** The URL with `validationToken` appended, keeping its query (such as `?code=`), as Graph does. */
export function handshakeUrl(url: URL, token: string): string {
  const query = url.search ? `${url.search}&` : '?';
  return `${url.origin}${url.pathname}${query}validationToken=${encodeURIComponent(token)}`;
}

const preview = (body: string) => JSON.stringify(body.length > 120 ? `${body.slice(0, 120)}…` : body);

function networkFailure(e: unknown, timeoutMs: number): { failure: EndpointFailure; detail: string } {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return { failure: 'timeout', detail: `no complete answer within ${timeoutMs} ms` };
  const code = err.cause?.code;
  if (code === 'ECONNREFUSED') return { failure: 'connection-refused', detail: 'connection refused: nothing listens there' };
  return { failure: 'unreachable', detail: `${code ?? err.name}: ${err.cause?.message ?? err.message}` };
}

/** Does Graph's validation handshake against one URL: POST `?validationToken=…`, text/plain, expects the token back. */
export async function checkEndpoint(name: string, url: string, options: EndpointCheckOptions = {}): Promise<EndpointCheckResult> {
  const timeoutMs = options.timeoutMs ?? GRAPH_HANDSHAKE_TIMEOUT_MS;
  const shown = maskSecrets(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { name, url: shown, ok: false, failure: 'invalid-url', detail: 'not a URL' };
  }
  const token = validationToken();
  const signal = AbortSignal.timeout(timeoutMs);
  let status: number;
  let contentType: string;
  let body: string;
  try {
    const res = await fetch(handshakeUrl(parsed, token), { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '', redirect: 'manual', signal });
    status = res.status;
    contentType = res.headers.get('content-type') ?? '';
    body = await res.text();
  } catch (e) {
    return { name, url: shown, ok: false, ...networkFailure(e, timeoutMs) };
  }
  const base = { name, url: shown, status };
  if (status === 401 || status === 403) return { ...base, ok: false, failure: 'unauthorized', detail: `HTTP ${status}: the function key (code=) is wrong or missing` };
  if (status === 404) return { ...base, ok: false, failure: 'not-found', detail: 'HTTP 404: no function at this path (wrong URL, or the app is not published)' };
  if (status !== 200) return { ...base, ok: false, failure: 'http-status', detail: `HTTP ${status}, expected 200: ${maskSecrets(preview(body))}` };
  if (!/^text\/plain\b/i.test(contentType)) return { ...base, ok: false, failure: 'wrong-content-type', detail: `content-type ${contentType || '(none)'}, expected text/plain` };
  if (body !== token) return { ...base, ok: false, failure: 'wrong-body', detail: `the body is not the validation token: ${maskSecrets(preview(body))}` };
  return { ...base, ok: true, detail: 'HTTP 200 text/plain, token echoed' };
}

/** Checks each named URL (e.g. GRAPH_NOTIFICATION_URL, GRAPH_LIFECYCLE_URL) at the same time. */
export async function checkEndpoints(urls: Readonly<Record<string, string>>, options: EndpointCheckOptions = {}): Promise<EndpointCheckResult[]> {
  return Promise.all(Object.entries(urls).map(([name, url]) => checkEndpoint(name, url, options)));
}
