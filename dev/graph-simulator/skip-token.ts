import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { badRequest } from './graph-error.js';

/**
 * Paging and delta tokens: the query's state, bound to the request it continues (path and query options)
 * and signed with a key of this simulator instance, so a garbled token, one used on another query or one
 * from an earlier run is answered 400 instead of silently restarting or skipping.
 */
export class PagingTokens {
  readonly #key = randomBytes(32);

  issue(scope: string, state: Record<string, unknown>): string {
    const payload = Buffer.from(JSON.stringify({ scope, state })).toString('base64url');
    return `${payload}.${this.#mac(payload)}`;
  }

  read<T extends Record<string, unknown>>(token: string, scope: string, name: string): T {
    const [payload = '', mac = ''] = token.split('.');
    const expected = Buffer.from(this.#mac(payload));
    const given = Buffer.from(mac);
    const invalid = () => badRequest(`The ${name} is not valid: garbled, issued for another request, or expired.`, 'BadRequest');
    if (!payload || given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { scope: string; state: T };
    if (parsed.scope !== scope) throw invalid();
    return parsed.state;
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }
}
