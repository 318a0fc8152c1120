import type { ReceiveResponse } from './problem.js';

/**
 * Graph's validation handshake: `?validationToken=...` must be echoed, decoded, as text/plain with 200
 * within 10 seconds. `token` is the already URL-decoded query value.
 */
export function answerValidationHandshake(token: string): ReceiveResponse {
  return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: token };
}
