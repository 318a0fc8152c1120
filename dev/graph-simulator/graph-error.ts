import { randomUUID } from 'node:crypto';
import { RelayError } from '../../shared/errors.js';

/** An error answered with Graph's error body: `{"error":{"code","message","innerError":{...}}}`. */
export class GraphError extends RelayError {
  readonly status: number;
  readonly graphCode: string;
  readonly headers: Record<string, string>;

  constructor(status: number, graphCode: string, message: string, headers: Record<string, string> = {}) {
    super(`ERR_GRAPH_${status}`, message);
    this.status = status;
    this.graphCode = graphCode;
    this.headers = headers;
  }

  body(now: Date): string {
    const requestId = randomUUID();
    return JSON.stringify({
      error: {
        code: this.graphCode,
        message: this.message,
        innerError: { date: now.toISOString().slice(0, 19), 'request-id': requestId, 'client-request-id': requestId },
      },
    });
  }
}

/** The simulator's own API used wrongly (not listening yet, a subscription id it does not hold). */
export class SimulatorUsageError extends RelayError {
  constructor(message: string) {
    super('ERR_SIMULATOR_USAGE', message);
  }
}

export const badRequest = (message: string, code = 'ValidationError') => new GraphError(400, code, message);
export const notFound = (message: string) => new GraphError(404, 'ResourceNotFound', message);

const STATUS_NAMES: Readonly<Record<number, string>> = { 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict' };

/**
 * How Graph answers a Teams subscription it refuses (a quota, a missing permission): its Teams extension's
 * code and message, `{"code":"ExtensionError","message":"Operation: Create; Exception: [Status Code:
 * Forbidden; Reason: …]"}`, as reported in microsoftgraph/microsoft-graph-docs issues.
 */
export const extensionError = (status: number, reason: string, operation = 'Create') =>
  new GraphError(status, 'ExtensionError', `Operation: ${operation}; Exception: [Status Code: ${STATUS_NAMES[status] ?? String(status)}; Reason: ${reason}]`);
