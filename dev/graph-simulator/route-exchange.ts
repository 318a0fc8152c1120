import type { IncomingMessage } from 'node:http';

/** A request as the simulator's routes read it: its body already parsed as a JSON object (`{}` when empty). */
export interface SimulatorRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: Record<string, unknown>;
}

/** What a route answers: a status, a JSON body when there is one, and extra headers. */
export interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}
