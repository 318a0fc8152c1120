import type { TokenCredential } from '@azure/identity';
import { RelayError } from '../errors.js';

/** A Graph error answer, parsed: HTTP status, Graph's error code and the request id. */
export class GraphRequestError extends RelayError {
  readonly status: number;
  readonly graphCode: string;
  readonly requestId?: string;
  readonly retryAfterSeconds?: number;

  constructor(status: number, graphCode: string, message: string, requestId?: string, retryAfterSeconds?: number) {
    super(`ERR_GRAPH_${status}`, `Graph answered ${status} ${graphCode}: ${message}${requestId ? ` (request-id ${requestId})` : ''}`);
    this.status = status;
    this.graphCode = graphCode;
    if (requestId) this.requestId = requestId;
    if (retryAfterSeconds !== undefined) this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function isGraphRequestError(e: unknown, status?: number): e is GraphRequestError {
  return e instanceof GraphRequestError && (status === undefined || e.status === status);
}

/** A subscription as Graph returns it (the fields the app uses). */
export interface GraphSubscription {
  readonly id: string;
  readonly resource: string;
  readonly changeType: string;
  readonly notificationUrl: string;
  readonly lifecycleNotificationUrl?: string | null;
  readonly expirationDateTime: string;
  readonly includeResourceData?: boolean;
  readonly encryptionCertificateId?: string | null;
  readonly clientState?: string | null;
  readonly applicationId?: string;
}

export interface NewSubscription {
  readonly resource: string;
  readonly changeType: string;
  readonly notificationUrl: string;
  readonly lifecycleNotificationUrl: string;
  readonly expirationDateTime: string;
  readonly clientState: string;
  readonly includeResourceData: boolean;
  readonly encryptionCertificate?: string;
  readonly encryptionCertificateId?: string;
  readonly latestSupportedTlsVersion?: string;
}

export interface GraphClientOptions {
  readonly baseUrl: string;
  readonly credential: TokenCredential;
  /** Most retries of one call after 429/503/504. */
  readonly maxRetries?: number;
  /** Longest single wait honoured from Retry-After, in ms. */
  readonly maxRetryDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly timeoutMs?: number;
}

const RETRYABLE = new Set([429, 503, 504]);

/**
 * A small typed client for the subscriptions API. Tokens from @azure/identity (scope `<base>/.default`),
 * retries on 429, 503 and 504 honouring Retry-After within a bound, Graph error bodies parsed into
 * GraphRequestError with Graph's code and request id.
 */
export class GraphClient {
  readonly #o: Required<Omit<GraphClientOptions, 'sleep'>> & { sleep: (ms: number) => Promise<void> };
  readonly #scope: string;

  constructor(options: GraphClientOptions) {
    this.#o = { maxRetries: 3, maxRetryDelayMs: 30_000, timeoutMs: 30_000, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
    this.#scope = `${new URL(this.#o.baseUrl).origin}/.default`;
  }

  async listSubscriptions(version: 'v1.0' | 'beta' = 'v1.0'): Promise<GraphSubscription[]> {
    const all: GraphSubscription[] = [];
    let url: string | undefined = `${this.#o.baseUrl}/${version}/subscriptions`;
    while (url) {
      const page = (await this.#send('GET', url)) as { value: GraphSubscription[]; '@odata.nextLink'?: string };
      all.push(...page.value);
      url = page['@odata.nextLink'];
    }
    return all;
  }

  createSubscription(body: NewSubscription, version: 'v1.0' | 'beta' = 'v1.0'): Promise<GraphSubscription> {
    return this.#send('POST', `${this.#o.baseUrl}/${version}/subscriptions`, body) as Promise<GraphSubscription>;
  }

  updateSubscription(id: string, patch: Partial<Pick<NewSubscription, 'expirationDateTime' | 'notificationUrl' | 'encryptionCertificate' | 'encryptionCertificateId'>>): Promise<GraphSubscription> {
    return this.#send('PATCH', `${this.#o.baseUrl}/v1.0/subscriptions/${encodeURIComponent(id)}`, patch) as Promise<GraphSubscription>;
  }

  async deleteSubscription(id: string): Promise<void> {
    await this.#send('DELETE', `${this.#o.baseUrl}/v1.0/subscriptions/${encodeURIComponent(id)}`);
  }

  async reauthorizeSubscription(id: string): Promise<void> {
    await this.#send('POST', `${this.#o.baseUrl}/v1.0/subscriptions/${encodeURIComponent(id)}/reauthorize`);
  }

  /**
   * GETs a resource or a collection page: `pathOrUrl` is a path under the base URL with its version
   * (`/v1.0/chats/…`) or an absolute `@odata.nextLink` Graph gave.
   */
  get<T>(pathOrUrl: string): Promise<T> {
    const url = /^https?:\/\//i.test(pathOrUrl) ? pathOrUrl : `${this.#o.baseUrl}${pathOrUrl.startsWith('/') ? '' : '/'}${pathOrUrl}`;
    // Without it, Teams reports newer enum values (a systemEventMessage's messageType) as unknownFutureValue.
    return this.#send('GET', url, undefined, { prefer: 'include-unknown-enum-members' }) as Promise<T>;
  }

  async #send(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.#o.credential.getToken(this.#scope);
      if (!token) throw new GraphRequestError(401, 'NoToken', `No access token for ${this.#scope}.`);
      const res = await fetch(url, {
        method,
        headers: { ...headers, authorization: `Bearer ${token.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : method === 'POST' ? { body: '' } : {}),
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      const text = await res.text();
      if (res.ok) return text ? (JSON.parse(text) as unknown) : undefined;
      const retryAfter = Number(res.headers.get('retry-after'));
      const error = parseGraphError(res.status, text, res.headers.get('request-id') ?? undefined, Number.isFinite(retryAfter) ? retryAfter : undefined);
      if (!RETRYABLE.has(res.status) || attempt >= this.#o.maxRetries) throw error;
      const wait = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 500 * 2 ** attempt;
      if (wait > this.#o.maxRetryDelayMs) throw error;
      await this.#o.sleep(wait);
    }
  }
}

function parseGraphError(status: number, text: string, headerRequestId?: string, retryAfter?: number): GraphRequestError {
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; innerError?: { 'request-id'?: string } } };
    const e = body.error ?? {};
    return new GraphRequestError(status, e.code ?? 'Unknown', e.message ?? text.slice(0, 200), e.innerError?.['request-id'] ?? headerRequestId, retryAfter);
  } catch {
    return new GraphRequestError(status, 'Unknown', text.slice(0, 200) || 'no body', headerRequestId, retryAfter);
  }
}
