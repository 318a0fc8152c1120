/**
 * HTTP answers of the receive path, free of any Azure Functions type.
 * Errors are RFC 9457 problem details (`application/problem+json`).
 */
export interface ReceiveResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** Problem types are URNs; docs/errors.md lists each code. */
const PROBLEM_BASE = 'urn:teams-change-relay:problem:';

export function problem(status: number, code: string, title: string, detail: string, headers: Record<string, string> = {}): ReceiveResponse {
  return {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: JSON.stringify({ type: PROBLEM_BASE + code.toLowerCase(), title, status, detail, code }),
  };
}
