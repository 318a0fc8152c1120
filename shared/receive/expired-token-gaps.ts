import type { QueuedGapRequest } from '../queue/queued-notification.js';
import type { ExpiredToken } from './validation-tokens.js';

/**
 * How long before its token became valid an item's change may have been made: Graph's delay between a change
 * and the first sending of its notification (seconds, minutes when Teams is slow), with room to spare. The
 * backfill widens every gap by BACKFILL_MARGIN_MINUTES besides.
 */
export const EXPIRED_TOKEN_GAP_MARGIN_MS = 15 * 60_000;

/**
 * The gaps one request asks for instead of its items whose only token was Graph's but expired: one per
 * subscription and token window, however many items. Graph attaches a token while it is valid, so such an
 * item was first sent before the token's `exp` (a resend after a long outage) and its change was made after
 * the token became valid less the margin: the window `[validFrom - margin, received]` covers it. The verifier
 * keeps that window bounded: a token expired longer ago than Graph retries is no ExpiredToken, and `validFrom`
 * is never before `exp` less a day, so no window starts before received less RESENT_TOKEN_MAX_EXPIRED_MS,
 * MAX_TOKEN_LIFETIME_MS and the margin (28.5 hours). The same request sent again asks for the same `from`
 * (it depends on the token alone), which the gap log keeps as one gap.
 */
export class ExpiredTokenGaps {
  readonly #gaps = new Map<string, QueuedGapRequest>();

  add(item: { readonly subscriptionId: string; readonly tenantId: string }, token: ExpiredToken, receivedAt: string): void {
    const from = new Date(token.validFromMs - EXPIRED_TOKEN_GAP_MARGIN_MS).toISOString();
    const key = `${item.subscriptionId}\u0000${from}`;
    if (!this.#gaps.has(key)) this.#gaps.set(key, { reason: 'validation_token_expired', subscriptionId: item.subscriptionId, tenantId: token.tenantId, from, to: receivedAt });
  }

  get requests(): QueuedGapRequest[] {
    return [...this.#gaps.values()];
  }
}
