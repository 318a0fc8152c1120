import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/**
 * A refusal of Entra's token endpoint: the HTTP status, the OAuth `error` and the AADSTS code with its message,
 * written as Entra writes it (the message, then the trace id, correlation id and timestamp in
 * `error_description`; `error_codes`, `trace_id`, `correlation_id`, `error_uri`).
 */
export class EntraError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly error: string,
    readonly aadsts: number,
    message: string,
  ) {
    super(`AADSTS${aadsts}: ${message}`);
    this.name = 'EntraError';
  }
}

/** Entra's timestamp format in error bodies: `2016-01-09 02:02:12Z`. */
const timestamp = (at: Date) =>
  at
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');

/** Writes the error with a new trace id and the caller's `client-request-id` (MSAL sends one) as correlation id. */
export function answerEntraError(res: ServerResponse, e: EntraError, correlationId: string | undefined, authorityHost: string): void {
  const traceId = randomUUID();
  const correlation = correlationId ?? randomUUID();
  const at = timestamp(new Date());
  const body = {
    error: e.error,
    error_description: `${e.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlation}\r\nTimestamp: ${at}`,
    error_codes: [e.aadsts],
    timestamp: at,
    trace_id: traceId,
    correlation_id: correlation,
    error_uri: `${authorityHost}/error?code=${e.aadsts}`,
  };
  res.writeHead(e.status, { 'content-type': 'application/json; charset=utf-8', 'x-ms-request-id': traceId, 'client-request-id': correlation }).end(JSON.stringify(body));
}
