import type { TokenCredential } from '@azure/identity';
import {
  createEmptyPipeline,
  retryPolicy,
  setClientRequestIdPolicy,
  userAgentPolicy,
  type Pipeline,
  type PipelinePolicy,
  type RetryInformation,
  type RetryModifiers,
  type RetryStrategy,
} from '@azure/core-rest-pipeline';
import { GraphRequestError, retryAfterMsOf } from './graph-request-error.js';

export interface GraphPipelineOptions {
  readonly credential: TokenCredential;
  /** `<origin>/.default`. */
  readonly scope: string;
  readonly maxRetries: number;
  readonly maxRetryDelayMs: number;
  readonly retryDelayMs: number;
}

const SKIP: RetryModifiers = { skipStrategy: true };

/** Graph's throttling: 429 or 503 with Retry-After is retried after exactly that wait, when within `capMs`. */
export function graphThrottlingStrategy(capMs: number): RetryStrategy {
  return {
    name: 'graphThrottling',
    retry({ response }: RetryInformation): RetryModifiers {
      const wait = retryAfterMs(response?.status, response?.headers.get('retry-after'));
      return wait !== undefined && wait <= capMs ? { retryAfterInMs: wait } : SKIP;
    },
  };
}

/** Network errors that prove the request never reached the server: safe to resend even a POST. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);
/** Network errors after which the server may have acted: resent only for idempotent methods. */
const MAYBE_SENT = new Set(['ECONNRESET', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EPIPE']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Jittered exponential back-off for 408, 5xx other than throttling (a 503 with Retry-After is the throttling
 * strategy's) and network errors; a POST (creating a subscription) only when it never reached Graph, so a
 * lost answer does not create a second subscription.
 */
export function graphBackoffStrategy(baseMs: number, capMs: number, random: () => number = Math.random): RetryStrategy {
  const delay = (retryCount: number) => Math.round(Math.min(capMs, baseMs * 2 ** retryCount) * (0.5 + random() / 2));
  return {
    name: 'graphBackoff',
    retry({ response, responseError, retryCount }: RetryInformation): RetryModifiers {
      if (responseError) {
        const code = responseError.code ?? '';
        const method = responseError.request?.method ?? 'POST';
        return NOT_SENT.has(code) || (MAYBE_SENT.has(code) && IDEMPOTENT.has(method)) ? { retryAfterInMs: delay(retryCount) } : SKIP;
      }
      const status = response?.status ?? 0;
      if (retryAfterMs(status, response?.headers.get('retry-after')) !== undefined) return SKIP;
      return status === 408 || (status >= 500 && status !== 501 && status !== 505) ? { retryAfterInMs: delay(retryCount) } : SKIP;
    },
  };
}

/** Retry-After of a throttling answer (429, 503) in ms; undefined when absent or not throttling. */
function retryAfterMs(status: number | undefined, header: string | undefined): number | undefined {
  return status === 429 || status === 503 ? retryAfterMsOf(header) : undefined;
}

/**
 * The access token per request from the credential (the @azure/identity credentials cache it). Not the SDK's
 * bearerTokenAuthenticationPolicy: that one refuses http URLs, and the local Graph simulator is http on loopback.
 */
function graphTokenPolicy(credential: TokenCredential, scope: string): PipelinePolicy {
  return {
    name: 'graphToken',
    async sendRequest(request, next) {
      const token = await credential.getToken(scope, { abortSignal: request.abortSignal });
      if (!token) throw new GraphRequestError(401, 'NoToken', `No access token for ${scope}.`);
      request.headers.set('authorization', `Bearer ${token.token}`);
      return next(request);
    },
  };
}

/** The pipeline every Graph call goes through. */
export function createGraphPipeline(o: GraphPipelineOptions): Pipeline {
  const pipeline = createEmptyPipeline();
  pipeline.addPolicy(userAgentPolicy({ userAgentPrefix: 'teams-change-relay' }));
  // Graph's own header: its answer and its logs carry the same id.
  pipeline.addPolicy(setClientRequestIdPolicy('client-request-id'));
  pipeline.addPolicy(retryPolicy([graphThrottlingStrategy(o.maxRetryDelayMs), graphBackoffStrategy(o.retryDelayMs, o.maxRetryDelayMs)], { maxRetries: o.maxRetries }), { phase: 'Retry' });
  pipeline.addPolicy(graphTokenPolicy(o.credential, o.scope), { phase: 'Sign' });
  return pipeline;
}
