import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * Graph's validation handshake: POST `<url>?validationToken=<token, URL-encoded>` (query strings already in
 * the URL are kept), text/plain, empty body; the endpoint must answer 200 with the token itself within the
 * timeout. Resolves to null when it did, else to what went wrong. `from` is the local address the request
 * leaves from: Graph calls from its published addresses, which an endpoint's access restrictions may allow
 * while refusing everyone else.
 */
export async function performValidationHandshake(url: string, timeoutMs: number, from?: string): Promise<string | null> {
  const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
  const target = new URL(url);
  target.searchParams.append('validationToken', token);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  try {
    const signal = AbortSignal.timeout(timeoutMs);
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        target,
        {
          method: 'POST',
          headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': '0' },
          signal,
          ...(from ? { localAddress: from } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
          // Aborted mid-body (the timeout), the body never ends: the answer was not complete in time.
          res.on('close', () => (res.complete ? undefined : reject(signal.reason instanceof Error ? signal.reason : new Error('the answer was cut off'))));
        },
      );
      req.on('error', reject);
      req.end();
    });
    if (status !== 200) return `the endpoint answered ${status}`;
    if (text !== token) return 'the endpoint did not echo the validation token';
    return null;
  } catch (e) {
    const name = (e as Error).name;
    return name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${timeoutMs} ms` : `the request failed: ${(e as Error).message}`;
  }
}
