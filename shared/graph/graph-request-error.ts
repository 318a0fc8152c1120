import type { PipelineResponse } from '@azure/core-rest-pipeline';
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

/** A Graph error answer as GraphRequestError (Retry-After in seconds kept for callers that pace themselves). */
export function graphErrorOf(res: PipelineResponse): GraphRequestError {
  const retryAfter = retryAfterMsOf(res.headers.get('retry-after'));
  return parseGraphError(res.status, res.bodyAsText ?? '', res.headers.get('request-id') ?? undefined, retryAfter === undefined ? undefined : retryAfter / 1000);
}

/** A Retry-After header (seconds or an HTTP date) in ms; undefined when absent or unreadable. */
export function retryAfterMsOf(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
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
