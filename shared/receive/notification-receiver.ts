import { BadRequestError, StorageUnavailableError, UnserializableNotificationError } from '../errors.js';
import { errorFields, type Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { isLifecycleNotification, type NotificationItem } from '../protocol/notification.js';
import type { NotificationStore } from '../queue/notification-store.js';
import { QUEUED_NOTIFICATION_SCHEMA, type QueuedNotification } from '../queue/queued-notification.js';
import type { ClientStateVerifier } from './client-state.js';
import { RejectionLog } from './rejection-log.js';
import type { StorageOutageWatch } from './storage-outage-watch.js';
import { AnswerDeadline, GRAPH_SLOW_ANSWER_MS, RECEIVER_DEADLINE_MS } from './answer-budget.js';
import { answerValidationHandshake } from './handshake.js';
import { ExpiredTokenGaps } from './expired-token-gaps.js';
import { checkDeclaredLength, parseNotificationBody } from './parse-notification-body.js';
import { problem, type ReceiveResponse } from './problem.js';
import type { ExpiredToken, TokenVerdict, ValidationTokenVerifier } from './validation-tokens.js';

/** An HTTP request to notificationUrl or lifecycleNotificationUrl, as the receiver needs it. */
export interface ReceiveRequest {
  /** The decoded `validationToken` query parameter, when present. */
  readonly validationToken: string | null;
  readonly contentType: string | null;
  readonly contentLength: number | null;
  readBody(): Promise<Uint8Array>;
}

/**
 * Which tenants are served: `has` answers from memory for the hot loop; `serves`, when given, may read the
 * tenant registry again for a tenant `has` does not know (one onboarded a moment ago).
 */
export interface TenantAllowList {
  has(tenantId: string): boolean;
  serves?(tenantId: string): Promise<boolean>;
}

export interface NotificationReceiverOptions {
  readonly clientState: ClientStateVerifier;
  readonly tokens: ValidationTokenVerifier;
  readonly store: NotificationStore;
  /** The tenants whose notifications are accepted (GRAPH_TENANT_IDS, or the tenant registry's served ones). */
  readonly tenantIds: TenantAllowList;
  readonly maxBodyBytes: number;
  readonly now?: () => number;
  /** Seconds Graph is asked to wait before retrying after a 503. */
  readonly retryAfterSeconds?: number;
  /**
   * Seconds Graph is asked to wait after a 503 for a token signed by an unknown key: the JWKS refresh
   * cooldown, after which the retry can fetch the key set again. Defaults to retryAfterSeconds.
   */
  readonly unknownKeyRetryAfterSeconds?: number;
  /** Told of storage failures and of the first success after them, to report windows Graph gave up on. */
  readonly outages?: StorageOutageWatch;
  /** The request's deadline (ms from its start): storing gets what is left of it (answer-budget.ts). */
  readonly deadlineMs?: number;
  /** Where each answer is counted (`answers`, `slow_answers`) and timed (`answer_ms`). */
  readonly metrics?: Metrics;
}

/**
 * The receive path: handshake, parse, verify (clientState, tenant, validation tokens), then store the
 * accepted change notifications of the request as one queue message (one durable write per request). Answers 202 only once everything accepted is durable; 503 with
 * Retry-After when storage (or the token keys) cannot be reached, or a token's signing key is not (yet)
 * known; 4xx problem details for bad input.
 * Forged items are answered 202 like the rest (so a forger learns nothing), logged as security events and
 * dropped. Items whose clientState matches and whose tenant's only validation token is Graph's but expired
 * are refused too, but not lost: the stored message asks for a backfill gap over their window instead.
 */
export class NotificationReceiver {
  readonly #options: NotificationReceiverOptions;
  readonly #now: () => number;

  constructor(options: NotificationReceiverOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * `endpoint` names the receiving URL in logs and measures; `logger` is the invocation's. Every answer is
   * counted by status and timed (an unexpected error as the 500 the host answers with): Graph puts an
   * endpoint whose answers are slow into its slow, then drop, state.
   */
  async receive(request: ReceiveRequest, endpoint: string, logger: Logger): Promise<ReceiveResponse> {
    const started = this.#now();
    let status = 500;
    try {
      const response = await this.#receive(request, endpoint, logger);
      status = response.status;
      return response;
    } finally {
      const metrics = this.#options.metrics;
      if (metrics) {
        const ms = this.#now() - started;
        metrics.add('answers', `${endpoint}.${status}`);
        metrics.observe('answer_ms', endpoint, ms);
        if (ms > GRAPH_SLOW_ANSWER_MS) metrics.add('slow_answers', endpoint);
      }
    }
  }

  async #receive(request: ReceiveRequest, endpoint: string, logger: Logger): Promise<ReceiveResponse> {
    if (request.validationToken !== null) return answerValidationHandshake(request.validationToken);
    const deadline = new AnswerDeadline(this.#options.deadlineMs ?? RECEIVER_DEADLINE_MS);
    const refuse = (status: number, code: string, detail: string) => {
      logger.warn('receive.bad_request', { endpoint, code, status, detail });
      return problem(status, code, 'The notification request was refused', detail);
    };

    let collection;
    try {
      checkDeclaredLength(request.contentLength, this.#options.maxBodyBytes);
      collection = parseNotificationBody(await request.readBody(), request.contentType, this.#options.maxBodyBytes);
    } catch (e) {
      if (!(e instanceof BadRequestError)) throw e;
      return refuse(e.status, e.code, e.message);
    }

    // A tenant not served at the last read of the registry may have been onboarded since: read it again
    // (bounded by the answer's deadline). Not knowing is no reason to drop: Graph retries after a 503.
    const allowList = this.#options.tenantIds;
    const unknown = [...new Set(collection.value.map((i) => i.tenantId.toLowerCase()))].filter((t) => !allowList.has(t));
    if (unknown.length > 0 && allowList.serves) {
      let read: 'done' | 'failed' | undefined;
      const reading = Promise.all(unknown.map((t) => allowList.serves!(t))).then(
        () => (read = 'done'),
        (e: unknown) => {
          read = 'failed';
          logger.error('receive.tenants_unavailable', { endpoint, tenants: unknown.length, error: (e as Error).message });
        },
      );
      await deadline.waitFor(reading);
      if (read !== 'done') return this.#retryLater('ERR_TENANTS_UNAVAILABLE', 'The tenants served could not be read; retry later.');
    }

    const rejections = new RejectionLog();
    const trusted: NotificationItem[] = [];
    for (const item of collection.value) {
      if (!this.#options.tenantIds.has(item.tenantId.toLowerCase())) rejections.rejectItem(item, 'tenant_not_allowed');
      else if (!this.#options.clientState.matches(item.clientState)) rejections.rejectItem(item, 'client_state_mismatch');
      else trusted.push(item);
    }

    const needsToken = trusted.some((i) => !isLifecycleNotification(i) && i.encryptedContent !== undefined);
    const verdicts = needsToken ? await this.#options.tokens.verifyAll(collection.validationTokens ?? []) : new Map<string, TokenVerdict>();
    const tenantsWithToken = new Set<string>();
    /** Per tenant, its genuine but expired token that became valid first (the widest window). */
    const expiredTokens = new Map<string, ExpiredToken>();
    let keysUnavailable = false; // the key set could not be fetched
    let keyUnknown = false; // a kid not (yet) in the key set
    for (const verdict of verdicts.values()) {
      if (verdict.ok) tenantsWithToken.add(verdict.tenantId);
      else {
        keysUnavailable ||= verdict.retryable && verdict.reason === 'token_keys_unavailable';
        keyUnknown ||= verdict.retryable && verdict.reason === 'token_unknown_key';
        const earlier = verdict.expired && expiredTokens.get(verdict.expired.tenantId);
        if (verdict.expired && !(earlier && earlier.validFromMs <= verdict.expired.validFromMs)) expiredTokens.set(verdict.expired.tenantId, verdict.expired);
        rejections.rejectToken(verdict.reason);
      }
    }

    const receivedAt = new Date(this.#now()).toISOString();
    const accepted: QueuedNotification[] = [];
    const gaps = new ExpiredTokenGaps();
    let waitingForKeys = 0;
    for (const item of trusted) {
      const encrypted = !isLifecycleNotification(item) && item.encryptedContent !== undefined;
      if (encrypted && !tenantsWithToken.has(item.tenantId.toLowerCase())) {
        const expired = expiredTokens.get(item.tenantId.toLowerCase());
        if (keysUnavailable || keyUnknown) waitingForKeys++;
        else if (expired) {
          // Never routed (its token is expired), but its change is read back from Graph instead.
          rejections.rejectItem(item, 'validation_token_expired');
          gaps.add(item, expired, receivedAt);
        } else rejections.rejectItem(item, verdicts.size === 0 ? 'validation_token_missing' : 'validation_token_invalid');
        continue;
      }
      // The clientState has done its work: it is a secret, so it stays out of queues and blobs.
      const { clientState: _verified, ...notification } = item;
      accepted.push({
        schema: QUEUED_NOTIFICATION_SCHEMA,
        kind: isLifecycleNotification(item) ? 'lifecycle' : 'change',
        receivedAt,
        notification,
      });
    }

    rejections.write(logger, endpoint);

    if (waitingForKeys > 0 && keysUnavailable) {
      logger.error('receive.token_keys_unavailable', { endpoint, items: waitingForKeys });
      return this.#retryLater('ERR_TOKEN_KEYS_UNAVAILABLE', 'The keys that sign validation tokens could not be fetched.');
    }
    if (waitingForKeys > 0) {
      // Nothing is stored or discarded: Graph retries the whole batch, by when the key set may be refreshed.
      logger.warn('receive.token_key_unknown', { endpoint, items: waitingForKeys });
      return this.#retryLater('ERR_TOKEN_KEY_UNKNOWN', 'A validation token is signed by a key not (yet) in the published key set; retry later.', this.#options.unknownKeyRetryAfterSeconds);
    }

    const gapRequests = gaps.requests;
    try {
      // What a slow body or key set fetch left of the deadline bounds the store: a late 202 counts as slow.
      await this.#options.store.storeAll(accepted, { gaps: gapRequests, timeoutMs: deadline.remainingMs });
    } catch (e) {
      if (e instanceof UnserializableNotificationError) return refuse(400, e.code, e.message);
      if (!(e instanceof StorageUnavailableError)) throw e;
      this.#options.outages?.failed();
      logger.error('receive.storage_unavailable', { endpoint, items: accepted.length, gaps: gapRequests.length, ...errorFields(e) });
      return this.#retryLater(e.code, 'The notifications could not be stored; retry later.');
    }
    for (const { subscriptionId, tenantId, from, to } of gapRequests) logger.warn('receive.expired_token_gap', { endpoint, subscriptionId, tenantId, from, to });
    if (this.#options.outages?.inOutage) {
      // The first success after an outage: a window Graph gave up on becomes a gap (never fails the request,
      // never holds the answer past the deadline: opening the gap goes on after it).
      await deadline.waitFor(this.#options.outages.succeeded().catch((e: Error) => logger.error('receive.outage_gap_not_opened', { error: e.message })));
    }

    logger.info('receive.accepted', {
      endpoint,
      items: collection.value.length,
      accepted: accepted.length,
      rejected: collection.value.length - accepted.length,
    });
    return { status: 202, headers: {} };
  }

  #retryLater(code: string, detail: string, seconds = this.#options.retryAfterSeconds ?? 10): ReceiveResponse {
    return problem(503, code, 'Temporarily unable to accept notifications', detail, { 'retry-after': String(seconds) });
  }
}
