import { createHash, randomUUID } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import type { CertificateStore } from '../certificates/certificate-store.js';
import { RelayError } from '../errors.js';
import { kindNamed } from '../kinds/teams-kinds.js';
import type { Logger } from '../log.js';
import { changeNotificationSchema, type ChangeNotification } from '../protocol/notification.js';
import { isClaimCheck, isQueueMessageBody, QUEUED_NOTIFICATION_SCHEMA, unpackQueued, type QueuedGapRequest, type QueuedNotification } from '../queue/queued-notification.js';
import { Semaphore } from '../util/semaphore.js';
import { BatchCopies } from './batch-copies.js';
import { originalMessageText, type DeadLetterQueue } from './dead-letter.js';
import { PermanentFailure, type DeadLetterReason } from './dead-letter-reason.js';
import { decryptNotification } from './decrypt-notification.js';
import type { EventPublisher } from './event-publisher.js';
import { itemMessageText } from './item-message.js';
import type { ResourceHydrator } from './resource-hydrator.js';
import { resolveQueued } from './resolve-queued.js';
import type { RoutedEventLog } from './routed-event-log.js';
import type { RoutingTable } from './routing-table.js';
import { buildTeamsEvent, changeTimeOf, type TeamsCloudEvent } from './teams-event.js';

export type ProcessOutcome =
  | { readonly status: 'routed'; readonly eventId: string; readonly queues: readonly string[] }
  | { readonly status: 'duplicate'; readonly eventId: string }
  | { readonly status: 'dropped'; readonly eventId: string; readonly rule: number }
  | { readonly status: 'dead-lettered'; readonly reason: DeadLetterReason }
  /** A notification of a tenant the relay no longer serves (removed after it was queued): dropped, logged. */
  | { readonly status: 'not-served'; readonly tenantId: string }
  /** A v2 message: one outcome per item, in order. */
  | { readonly status: 'batch'; readonly items: readonly ItemOutcome[] };

/** What became of one item of a queued batch. */
export type ItemOutcome = Exclude<ProcessOutcome, { status: 'batch' }>;

/**
 * The de-duplication log's key for "this item of this incoming message was dead-lettered": a hash of the
 * item's delivery id (the message id, and in a batch the item's place in it), so that it spreads over the
 * log's 16 partitions as event ids do and never equals one. The message id, not the event id: a replay puts
 * the dead letter's original back as a new message, which must route once the cause is fixed.
 */
const deadLetterKey = (delivery: string) => createHash('sha256').update(`dead-letter\n${delivery}`).digest('hex').slice(0, 40);

/** Items of one batch routed at once: their storage calls overlap, and their de-duplication writes share transactions. */
const ITEMS_IN_FLIGHT = 64;

export interface NotificationProcessorOptions {
  readonly certificates: CertificateStore;
  readonly routes: RoutingTable;
  readonly publisher: EventPublisher;
  readonly routedLog: RoutedEventLog;
  readonly deadLetters: DeadLetterQueue;
  /** Where claim-check blobs of the incoming queue live. */
  readonly claimChecks: ContainerClient;
  /** Completes reference notifications of `hydrate` subscriptions with their resource. */
  readonly hydrator?: ResourceHydrator;
  /** Remembers each chat's members from routed member events (per tenant), for a later membership backfill. */
  readonly memberships?: { remember(tenantId: string, chatId: string, member: { userId: string; membershipId: string; resource: Record<string, unknown>; present: boolean }): Promise<void> };
  /** Notes which subscription delivered when (status, gap windows); its failures are logged, never fatal. */
  readonly deliveries?: { delivered(subscriptionId: string, at: Date): Promise<void> };
  /** Opens the backfill gaps a v2 message asks for (idempotent: a retried message opens none twice). */
  readonly gapRequests?: { open(request: QueuedGapRequest, logger: Logger): Promise<unknown> };
  /** Whether the relay still serves a tenant: a notification queued before its tenant was removed goes no further. */
  readonly serves?: (tenantId: string) => Promise<boolean>;
}

export interface ProcessContext {
  readonly sourceQueue: string;
  readonly logger: Logger;
  /**
   * The incoming queue message's id: its retries take over their own de-duplication claim, and events
   * without a version or Graph id get their id from it. Omitted: each call is its own delivery.
   */
  readonly messageId?: string;
}

/**
 * The dead letter's reason when no retry can mend `e` because the input itself is bad (met by our own code,
 * not by a service): the message is dead-lettered at once instead of being retried into the poison queue.
 * A RelayError says so itself (its `permanentReason`); of the builtin errors, those our code throws on input
 * it cannot handle are `unprocessable` (a TypeError with a cause, as fetch's `fetch failed`, is the network's:
 * transient). Undefined: transient.
 */
export function permanentReason(e: unknown): DeadLetterReason | undefined {
  if (e instanceof RelayError) return e.permanentReason;
  if (e instanceof SyntaxError || e instanceof URIError || e instanceof RangeError || (e instanceof TypeError && !(e as { cause?: unknown }).cause)) return 'unprocessable';
  return undefined;
}

/**
 * The queue half of the data path: one queued notification in, one CloudEvent out on its routes.
 * Transient failures (storage, Key Vault) throw, so the host retries (and finally poisons) the message;
 * failures no retry can mend (forged or undecryptable content, unknown certificate, unsupported resource,
 * no route, malformed input) go to the dead-letter queue with a reason, at once. Duplicates are skipped per
 * destination queue (see RoutedEventLog): an event id is claimed before publishing and recorded per queue
 * that took it, so two copies at once go out once, a partial fan-out is completed on retry without
 * repeating the queues that took it, and none is lost. A claim-check blob is deleted once its message is done.
 */
export class NotificationProcessor {
  readonly #certificates: CertificateStore;
  readonly #routes: RoutingTable;
  readonly #publisher: EventPublisher;
  readonly #routedLog: RoutedEventLog;
  readonly #deadLetters: DeadLetterQueue;
  readonly #claimChecks: ContainerClient;
  readonly #hydrator: NotificationProcessorOptions['hydrator'];
  readonly #memberships: NotificationProcessorOptions['memberships'];
  readonly #deliveries: NotificationProcessorOptions['deliveries'];
  readonly #gapRequests: NotificationProcessorOptions['gapRequests'];
  readonly #serves: NotificationProcessorOptions['serves'];

  constructor(options: NotificationProcessorOptions) {
    this.#certificates = options.certificates;
    this.#routes = options.routes;
    this.#publisher = options.publisher;
    this.#routedLog = options.routedLog;
    this.#deadLetters = options.deadLetters;
    this.#claimChecks = options.claimChecks;
    this.#hydrator = options.hydrator;
    this.#memberships = options.memberships;
    this.#deliveries = options.deliveries;
    this.#gapRequests = options.gapRequests;
    this.#serves = options.serves;
  }

  /**
   * `message` is the queue trigger's value: the parsed JSON of the message (or its text if not JSON). A v1
   * message holds one notification; a v2 message the accepted items of one Graph request, routed each on
   * its own: an item that can never succeed is dead-lettered alone (as a v1 message, replayable), and a
   * transient failure of any item throws once every item has settled, so the host retries the message and
   * the de-duplication log keeps the items already routed from going out twice. The claim-check blob is
   * deleted only once every item is routed or dead-lettered. The backfill gaps a v2 message asks for are
   * opened before its items are routed.
   */
  async process(message: unknown, context: ProcessContext): Promise<ProcessOutcome> {
    let resolved;
    try {
      resolved = await resolveQueued(message, this.#claimChecks);
    } catch (e) {
      return this.#deadLetter(e, () => originalMessageText(message), context);
    }
    const messageId = context.messageId ?? randomUUID();
    let outcome: ProcessOutcome;
    if (resolved.schema === QUEUED_NOTIFICATION_SCHEMA) {
      try {
        outcome = await this.#processItem(resolved, messageId, context.logger);
      } catch (e) {
        return this.#deadLetter(e, () => originalMessageText(message), context, messageId);
      }
    } else {
      // The gaps first: a failure throws before any item is routed, and the host retries the whole message.
      await this.#openGaps(resolved.gaps ?? [], context.logger);
      const items = unpackQueued(resolved);
      const slots = new Semaphore(ITEMS_IN_FLIGHT);
      // Copies of one event in the same batch: a later copy goes only to the queues no earlier copy has claimed.
      const copies = new BatchCopies(messageId);
      // Each item its own delivery id, the same on every retry of this message. Each item's de-duplication
      // record is written as soon as it is out (records written at the same time still share the transactions
      // of their partitions): claims held until the whole batch is out made two messages carrying the same
      // events wait for each other until both gave up, attempt after attempt, into the poison queue. An item
      // dead-lettered is recorded too, so the retries that another item's transient failure causes skip it.
      const settled = await Promise.allSettled(
        items.map((item, i) =>
          slots.run(() =>
            this.#processItem(item, `${messageId}#${i}`, context.logger, copies).catch((e: unknown): Promise<ItemOutcome> => {
              if (permanentReason(e) === undefined) throw e; // transient: no dead letter (nor its blob)
              return this.#deadLetter(e, () => itemMessageText(item, this.#claimChecks), context, `${messageId}#${i}`);
            }),
          ),
        ),
      );
      const transient = settled.find((r) => r.status === 'rejected');
      if (transient) throw transient.reason;
      outcome = { status: 'batch', items: settled.map((r) => (r as PromiseFulfilledResult<ItemOutcome>).value) };
    }
    await this.#deleteClaimCheck(message, context.logger);
    return outcome;
  }

  async #openGaps(gaps: readonly QueuedGapRequest[], logger: Logger): Promise<void> {
    if (gaps.length === 0) return;
    const opener = this.#gapRequests;
    if (!opener) throw new Error('A queued batch asks for backfill gaps and this processor has no gap opener.');
    for (const gap of gaps) await opener.open(gap, logger);
  }

  /**
   * Dead-letters what `e` says no retry can mend (`originalMessage`: the message to replay, made only when
   * sent); rethrows anything else. With `delivery` (the item's delivery id), once per item of an incoming
   * message: claimed in the de-duplication log first and recorded once sent, as a routed event is, so the
   * same message's retries (the host's, after another item of its batch failed for now) send no second
   * letter (nor a second claim-check blob). A crash between sending and recording costs a duplicate letter.
   */
  async #deadLetter(e: unknown, originalMessage: () => string | Promise<string>, context: ProcessContext, delivery?: string): Promise<ItemOutcome> {
    const reason = permanentReason(e);
    if (reason === undefined) throw e;
    const error = e instanceof Error ? e.message : String(e);
    const claim = delivery === undefined ? undefined : await this.#routedLog.claim({ eventId: deadLetterKey(delivery), queues: [this.#deadLetters.name], owner: delivery });
    if (claim?.queues.length === 0) {
      context.logger.info('route.dead_letter_skipped', { reason });
      return { status: 'dead-lettered', reason };
    }
    try {
      await this.#deadLetters.send({ reason, error, failedAt: new Date().toISOString(), sourceQueue: context.sourceQueue, originalMessage: await originalMessage() });
    } catch (sendError) {
      await claim?.release().catch(() => undefined);
      throw sendError;
    }
    await claim?.complete();
    context.logger.warn('route.dead_lettered', { reason, error, deadLetterQueue: this.#deadLetters.name });
    return { status: 'dead-lettered', reason };
  }

  async #processItem(queued: QueuedNotification, messageId: string, logger: Logger, copies?: BatchCopies): Promise<ItemOutcome> {
    if (queued.kind !== 'change') throw new PermanentFailure('unexpected_lifecycle', 'A lifecycle notification reached the change notification queue.');
    const parsed = changeNotificationSchema.safeParse(queued.notification);
    if (!parsed.success) throw new PermanentFailure('malformed_message', `The queued notification is not a change notification: ${parsed.error.issues[0]?.message ?? ''}`);
    const notification: ChangeNotification = parsed.data;
    if (this.#serves && !(await this.#serves(notification.tenantId))) {
      // Offboarded since it was queued: neither routed, nor remembered, nor dead-lettered (its purge may follow).
      logger.warn('route.tenant_not_served', { tenantId: notification.tenantId, subscriptionId: notification.subscriptionId });
      return { status: 'not-served', tenantId: notification.tenantId };
    }
    await this.#deliveries?.delivered(notification.subscriptionId, new Date(queued.receivedAt)).catch((e: Error) => logger.warn('route.delivery_not_noted', { error: e.message }));

    let resource = notification.encryptedContent ? await decryptNotification(notification.encryptedContent, this.#certificates) : undefined;
    let change = notification;
    if (!resource && this.#hydrator) {
      const hydrated = await this.#hydrator.hydrate(notification);
      // A resource gone by the time it is read was deleted: say so rather than pass on a stale reference.
      if (hydrated === 'gone') change = { ...notification, changeType: 'deleted' };
      else if (hydrated) resource = hydrated.resource;
    }
    return this.#route(buildTeamsEvent(change, resource, queued.receivedAt, messageId).event, messageId, logger, copies);
  }

  /**
   * Routes a change read back from Graph (a backfill) as a notification of it would have been: the same
   * event id scheme (so a late notification of the same change is a duplicate), marked `backfilled`.
   * `read.occurrence` names the read for unversioned changes (their id includes it: one backfill's
   * repeated reads of a chat are one event); `read.owner` the unit of work that routes it (the same on its
   * retries, so they take over its de-duplication claim). Throws UnsupportedResourceError for a resource
   * that is not a Teams chat, member or message.
   */
  routeReadBack(notification: ChangeNotification, resource: Record<string, unknown>, read: { occurrence: string; owner: string }, logger: Logger): Promise<ItemOutcome> {
    const { event } = buildTeamsEvent(notification, resource, new Date().toISOString(), read.occurrence);
    return this.#route({ ...event, backfilled: true }, read.owner, logger);
  }

  /**
   * Routes the event, publishes it on its queues and then records that they took it (its de-duplication
   * record, the chat's members) and logs it. `owner` owns the de-duplication claim (its retries take it
   * over). In a batch, the owner is the message and event id together, whichever copy gets there first on
   * each attempt, and a copy claims only the queues that no earlier copy of the batch claimed, so that two
   * copies of one event in a request go out once to each queue.
   */
  async #route(event: TeamsCloudEvent, owner: string, logger: Logger, copies?: BatchCopies): Promise<ItemOutcome> {
    const fields = { eventId: event.id, type: event.type, subscriptionId: event.subscriptionid, tenantId: event.tenantid };

    const decision = this.#routes.route(event);
    if (decision.action === 'none') throw new PermanentFailure('no_route', `No route matches ${event.type} for ${event.subject} and default routes are off.`);
    if (decision.action === 'drop') {
      logger.info('route.dropped_by_rule', { ...fields, rule: decision.rule });
      return { status: 'dropped', eventId: event.id, rule: decision.rule };
    }
    let queues = decision.queues;
    if (copies) {
      queues = copies.claim(event.id, queues);
      if (queues.length === 0) {
        logger.info('route.duplicate_skipped', fields);
        return { status: 'duplicate', eventId: event.id };
      }
      owner = copies.owner(event.id);
    }
    const claim = await this.#routedLog.claim({ eventId: event.id, tenantId: event.tenantid, queues, owner });
    if (claim.queues.length === 0) {
      // Out before, but the invocation that sent it may have died before it remembered the member.
      await this.#rememberMember(event);
      logger.info('route.duplicate_skipped', fields);
      return { status: 'duplicate', eventId: event.id };
    }
    let result;
    try {
      result = await this.#publisher.publish(event, claim.queues);
    } catch (e) {
      await claim.release().catch(() => undefined);
      throw e;
    }
    if (result.failed.length > 0) {
      // Keep what went out, so the retry sends only to the queues that failed.
      await (result.published.length > 0 ? claim.complete(result.published) : claim.release()).catch(() => undefined);
      throw result.failed[0]?.error;
    }
    await claim.complete();
    await this.#rememberMember(event);
    logger.info('route.routed', { ...fields, queues: claim.queues, datamode: event.datamode, changedAt: changeTimeOf(event), ...(event.backfilled ? { backfilled: true } : {}) });
    return { status: 'routed', eventId: event.id, queues: claim.queues };
  }

  /**
   * Brings the chat's known members (what a backfill compares a chat's members with) up to date with a
   * member event that is out. A failure throws, so the message is retried and its retry (a duplicate by
   * then) remembers it: a change left unremembered would hide the member's next change from a backfill
   * (a member known as present, added again during a gap, shows no change).
   */
  async #rememberMember(event: TeamsCloudEvent): Promise<void> {
    const data = event.data as Record<string, unknown> | undefined;
    if (!this.#memberships || !kindNamed(event.kind).membership || event.datamode !== 'resource' || !event.chatid || !event.memberid || typeof data?.userId !== 'string') return;
    const member = { userId: data.userId, membershipId: event.memberid, resource: data, present: event.changetype !== 'deleted' };
    await this.#memberships.remember(event.tenantid, event.chatid, member);
  }

  /** Claim-check blobs are only needed until their message is done (a dead letter keeps its blob for replay). */
  async #deleteClaimCheck(message: unknown, logger: Logger): Promise<void> {
    if (!isQueueMessageBody(message) || !isClaimCheck(message)) return;
    try {
      await this.#claimChecks.getBlobClient(message.claimCheck.blob).deleteIfExists();
    } catch (e) {
      logger.warn('route.claim_check_not_deleted', { blob: message.claimCheck.blob, error: (e as Error).message });
    }
  }
}
