import { randomUUID } from 'node:crypto';

/**
 * Graph's validation handshake: POST `<url>?validationToken=<token, URL-encoded>` (query strings already in
 * the URL are kept), text/plain, empty body; the endpoint must answer 200 with the token itself within the
 * timeout. Resolves to null when it did, else to what went wrong.
 */
export async function performValidationHandshake(url: string, timeoutMs: number): Promise<string | null> {
  const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
  const target = new URL(url);
  target.searchParams.append('validationToken', token);
  try {
    const res = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: '',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (res.status !== 200) return `the endpoint answered ${res.status}`;
    if (text !== token) return 'the endpoint did not echo the validation token';
    return null;
  } catch (e) {
    const name = (e as Error).name;
    return name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${timeoutMs} ms` : `the request failed: ${(e as Error).message}`;
  }
}
