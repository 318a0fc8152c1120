import type { Logger } from '../log.js';
import type { TokenRejection } from './validation-tokens.js';

export type ItemRejection = 'tenant_not_allowed' | 'client_state_mismatch' | 'validation_token_missing' | 'validation_token_invalid' | 'validation_token_expired';

/** Detail lines of each kind written per request; the rest are only counted in the summary. */
export const MAX_DETAIL_LINES = 10;

interface ItemRejectionEntry {
  readonly reason: ItemRejection;
  readonly subscriptionId: string;
  readonly tenantId: string;
  count: number;
}

/**
 * The security events of one request. A forger controls how many distinct items and tokens a request holds,
 * so the log gets at most MAX_DETAIL_LINES `security.notification_rejected` lines (one per reason,
 * subscription and tenant, with a count) and as many `security.validation_token_rejected`, then one
 * `security.rejections_summary` line with the counts by reason and how many detail lines were left out.
 */
export class RejectionLog {
  readonly #items = new Map<string, ItemRejectionEntry>();
  readonly #tokens: TokenRejection[] = [];

  rejectItem(item: { readonly subscriptionId: string; readonly tenantId: string }, reason: ItemRejection): void {
    const key = `${reason}\u0000${item.subscriptionId}\u0000${item.tenantId}`;
    const entry = this.#items.get(key);
    if (entry) entry.count++;
    else this.#items.set(key, { reason, subscriptionId: item.subscriptionId, tenantId: item.tenantId, count: 1 });
  }

  /** One distinct token refused. */
  rejectToken(reason: TokenRejection): void {
    this.#tokens.push(reason);
  }

  /** Writes the request's security events, if any. */
  write(logger: Logger, endpoint: string): void {
    if (this.#items.size === 0 && this.#tokens.length === 0) return;
    const entries = [...this.#items.values()];
    for (const entry of entries.slice(0, MAX_DETAIL_LINES)) logger.warn('security.notification_rejected', { endpoint, ...entry });
    for (const reason of this.#tokens.slice(0, MAX_DETAIL_LINES)) logger.warn('security.validation_token_rejected', { endpoint, reason });
    const items: Partial<Record<ItemRejection, number>> = {};
    for (const { reason, count } of entries) items[reason] = (items[reason] ?? 0) + count;
    const tokens: Partial<Record<TokenRejection, number>> = {};
    for (const reason of this.#tokens) tokens[reason] = (tokens[reason] ?? 0) + 1;
    const omittedLines = Math.max(0, entries.length - MAX_DETAIL_LINES) + Math.max(0, this.#tokens.length - MAX_DETAIL_LINES);
    logger.warn('security.rejections_summary', { endpoint, items, tokens, omittedLines });
  }
}
