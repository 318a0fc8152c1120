/** A bare Graph HTTP client for simulator tests: JSON in, status and JSON out. */
export interface GraphAnswer {
  status: number;
  headers: Headers;
  body: any;
}

export function graphClient(baseUrl: string, token: string | null = 'test-token') {
  const call = async (method: string, path: string, body?: unknown): Promise<GraphAnswer> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown) => call('POST', path, body ?? {}),
    patch: (path: string, body: unknown) => call('PATCH', path, body),
    delete: (path: string) => call('DELETE', path),
  };
}

/** A JWT-shaped bearer token (unsigned; the simulator reads its claims as Graph would trust them). */
export function bearerFor(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.sig`;
}

export const inMinutes = (minutes: number, from = Date.now()) => new Date(from + minutes * 60_000).toISOString();
