import type { TokenCredential } from '@azure/identity';
import { createDefaultHttpClient, createHttpHeaders, createPipelineRequest, type HttpClient, type HttpMethods, type Pipeline } from '@azure/core-rest-pipeline';
import { isLoopbackHttpUrl } from '../util/loopback-url.js';
import { createGraphPipeline } from './graph-pipeline.js';
import { graphErrorOf } from './graph-request-error.js';

export { GraphRequestError, isGraphRequestError } from './graph-request-error.js';

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
  /** Most retries of one call (throttling, 5xx, network errors). */
  readonly maxRetries?: number;
  /** Longest single wait honoured from Retry-After, in ms: a longer one fails the call at once. */
  readonly maxRetryDelayMs?: number;
  /** First back-off of the jittered exponential retries (5xx, network errors), in ms. */
  readonly retryDelayMs?: number;
  readonly timeoutMs?: number;
}

/**
 * A small typed client for the subscriptions API and resource reads, on @azure/core-rest-pipeline (the Azure
 * SDK's HTTP stack): tokens from @azure/identity (scope `<base>/.default`), throttling answered as Graph asks
 * (429/503 with Retry-After, within a bound), jittered exponential retries on other 5xx, 408 and network
 * errors (a POST only when it never reached Graph), and Graph's error bodies parsed into GraphRequestError
 * with Graph's code and request id. Network failures surface as the pipeline's RestError.
 */
export class GraphClient {
  readonly #baseUrl: string;
  readonly #timeoutMs: number;
  readonly #pipeline: Pipeline;
  readonly #http: HttpClient = createDefaultHttpClient();

  constructor(options: GraphClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#pipeline = createGraphPipeline({
      credential: options.credential,
      scope: `${new URL(this.#baseUrl).origin}/.default`,
      maxRetries: options.maxRetries ?? 3,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
      retryDelayMs: options.retryDelayMs ?? 500,
    });
  }

  async listSubscriptions(version: 'v1.0' | 'beta' = 'v1.0'): Promise<GraphSubscription[]> {
    const all: GraphSubscription[] = [];
    let url: string | undefined = `${this.#baseUrl}/${version}/subscriptions`;
    while (url) {
      const page = (await this.#send('GET', url)) as { value: GraphSubscription[]; '@odata.nextLink'?: string };
      all.push(...page.value);
      url = page['@odata.nextLink'];
    }
    return all;
  }

  createSubscription(body: NewSubscription, version: 'v1.0' | 'beta' = 'v1.0'): Promise<GraphSubscription> {
    return this.#send('POST', `${this.#baseUrl}/${version}/subscriptions`, body) as Promise<GraphSubscription>;
  }

  updateSubscription(id: string, patch: Partial<Pick<NewSubscription, 'expirationDateTime' | 'notificationUrl' | 'encryptionCertificate' | 'encryptionCertificateId'>>): Promise<GraphSubscription> {
    return this.#send('PATCH', `${this.#baseUrl}/v1.0/subscriptions/${encodeURIComponent(id)}`, patch) as Promise<GraphSubscription>;
  }

  async deleteSubscription(id: string): Promise<void> {
    await this.#send('DELETE', `${this.#baseUrl}/v1.0/subscriptions/${encodeURIComponent(id)}`);
  }

  async reauthorizeSubscription(id: string): Promise<void> {
    await this.#send('POST', `${this.#baseUrl}/v1.0/subscriptions/${encodeURIComponent(id)}/reauthorize`);
  }

  /**
   * GETs a resource or a collection page: `pathOrUrl` is a path under the base URL with its version
   * (`/v1.0/chats/…`) or an absolute `@odata.nextLink` Graph gave.
   */
  get<T>(pathOrUrl: string): Promise<T> {
    const url = /^https?:\/\//i.test(pathOrUrl) ? pathOrUrl : `${this.#baseUrl}${pathOrUrl.startsWith('/') ? '' : '/'}${pathOrUrl}`;
    // Without it, Teams reports newer enum values (a systemEventMessage's messageType) as unknownFutureValue.
    return this.#send('GET', url, undefined, { prefer: 'include-unknown-enum-members' }) as Promise<T>;
  }

  async #send(method: HttpMethods, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
    const request = createPipelineRequest({
      url,
      method,
      headers: createHttpHeaders({ ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }),
      ...(body !== undefined ? { body: JSON.stringify(body) } : method === 'POST' ? { body: '' } : {}),
      timeout: this.#timeoutMs,
      // Plain http only to the local simulator on loopback; Graph itself is https.
      allowInsecureConnection: isLoopbackHttpUrl(url),
    });
    const res = await this.#pipeline.sendRequest(this.#http, request);
    const text = res.bodyAsText ?? '';
    if (res.status >= 200 && res.status < 300) return text ? (JSON.parse(text) as unknown) : undefined;
    throw graphErrorOf(res);
  }
}
