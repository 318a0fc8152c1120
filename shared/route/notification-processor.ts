import type { ContainerClient } from '@azure/storage-blob';
import type { CertificateStore } from '../certificates/certificate-store.js';
import { decryptResourceData, DecryptionError } from '../certificates/decrypt-resource-data.js';
import type { Logger } from '../log.js';
import { changeNotificationSchema, type ChangeNotification } from '../protocol/notification.js';
import { QUEUED_NOTIFICATION_SCHEMA, type QueueMessageBody, type QueuedNotification } from '../queue/queued-notification.js';
import { encodeJsonMessage } from '../queue/json-message.js';
import type { DeadLetterQueue } from './dead-letter.js';
import type { EventPublisher } from './event-publisher.js';
import type { RoutedEventLog } from './routed-event-log.js';
import type { RoutingTable } from './routing-table.js';
import { buildTeamsEvent, UnsupportedResourceError } from './teams-event.js';

/** A failure that no retry can mend: the message goes to the dead-letter queue at once. */
export class PermanentFailure extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

export type ProcessOutcome =
  | { readonly status: 'routed'; readonly eventId: string; readonly queues: readonly string[] }
  | { readonly status: 'duplicate'; readonly eventId: string }
  | { readonly status: 'dropped'; readonly eventId: string; readonly rule: number }
  | { readonly status: 'dead-lettered'; readonly reason: string };

export interface NotificationProcessorOptions {
  readonly certificates: CertificateStore;
  readonly routes: RoutingTable;
  readonly publisher: EventPublisher;
  readonly routedLog: RoutedEventLog;
  readonly deadLetters: DeadLetterQueue;
  /** Where claim-check blobs of the incoming queue live. */
  readonly claimChecks: ContainerClient;
}

export interface ProcessContext {
  readonly sourceQueue: string;
  readonly logger: Logger;
}

/**
 * The queue half of the data path: one queued notification in, one CloudEvent out on its routes.
 * Transient failures (storage, Key Vault) throw, so the host retries and finally poisons the message;
 * permanent ones (forged or undecryptable content, unknown certificate, unsupported resource, no route,
 * malformed message) go to the dead-letter queue with a reason, at once. Duplicates of an event routed
 * within the window are skipped: the id is claimed before publishing and marked routed only after every
 * queue took the event (a failed publish releases it), so two copies at once go out once and none is lost.
 */
export class NotificationProcessor {
  readonly #o: NotificationProcessorOptions;

  constructor(options: NotificationProcessorOptions) {
    this.#o = options;
  }

  /** `message` is the queue trigger's value: the parsed JSON of the message (or its text if not JSON). */
  async process(message: unknown, context: ProcessContext): Promise<ProcessOutcome> {
    try {
      return await this.#process(message, context);
    } catch (e) {
      if (!(e instanceof PermanentFailure)) throw e;
      // The trigger value is the parsed JSON (or the text when it was not JSON): encode it back as it was.
      const originalMessage = typeof message === 'string' ? Buffer.from(message, 'utf8').toString('base64') : encodeJsonMessage(message);
      await this.#o.deadLetters.send({ reason: e.reason, error: e.message, failedAt: new Date().toISOString(), sourceQueue: context.sourceQueue, originalMessage });
      context.logger.warn('route.dead_lettered', { reason: e.reason, error: e.message, deadLetterQueue: this.#o.deadLetters.name });
      return { status: 'dead-lettered', reason: e.reason };
    }
  }

  async #process(message: unknown, { logger }: ProcessContext): Promise<ProcessOutcome> {
    const queued = await this.#resolve(message);
    if (queued.kind !== 'change') throw new PermanentFailure('unexpected_lifecycle', 'A lifecycle notification reached the change notification queue.');
    const parsed = changeNotificationSchema.safeParse(queued.notification);
    if (!parsed.success) throw new PermanentFailure('malformed_message', `The queued notification is not a change notification: ${parsed.error.issues[0]?.message ?? ''}`);
    const notification: ChangeNotification = parsed.data;

    const resource = notification.encryptedContent ? await this.#decrypt(notification) : undefined;
    let built;
    try {
      built = buildTeamsEvent(notification, resource, queued.receivedAt);
    } catch (e) {
      if (e instanceof UnsupportedResourceError) throw new PermanentFailure('unsupported_resource', e.message);
      throw e;
    }
    const { event, versioned } = built;
    const fields = { eventId: event.id, type: event.type, subscriptionId: event.subscriptionid, tenantId: event.tenantid };

    const decision = this.#o.routes.route(event);
    if (decision.action === 'none') throw new PermanentFailure('no_route', `No route matches ${event.type} for ${event.subject} and default routes are off.`);
    if (decision.action === 'drop') {
      logger.info('route.dropped_by_rule', { ...fields, rule: decision.rule });
      return { status: 'dropped', eventId: event.id, rule: decision.rule };
    }
    if (versioned && (await this.#o.routedLog.claim(event.id)) === 'duplicate') {
      logger.info('route.duplicate_skipped', fields);
      return { status: 'duplicate', eventId: event.id };
    }
    try {
      await this.#o.publisher.publish(event, decision.queues);
    } catch (e) {
      if (versioned) await this.#o.routedLog.release(event.id).catch(() => undefined);
      throw e;
    }
    if (versioned) await this.#o.routedLog.complete(event.id);
    logger.info('route.routed', { ...fields, queues: decision.queues, datamode: event.datamode });
    return { status: 'routed', eventId: event.id, queues: decision.queues };
  }

  async #resolve(message: unknown): Promise<QueuedNotification> {
    const body = message as QueueMessageBody | undefined;
    if (!body || typeof body !== 'object' || body.schema !== QUEUED_NOTIFICATION_SCHEMA) {
      throw new PermanentFailure('malformed_message', `The message is not a ${QUEUED_NOTIFICATION_SCHEMA} message.`);
    }
    if (!('claimCheck' in body)) return body;
    try {
      const blob = await this.#o.claimChecks.getBlobClient(body.claimCheck.blob).downloadToBuffer();
      return JSON.parse(blob.toString('utf8')) as QueuedNotification;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) throw new PermanentFailure('claim_check_missing', `Claim-check blob ${body.claimCheck.blob} does not exist.`);
      if (e instanceof SyntaxError) throw new PermanentFailure('malformed_message', `Claim-check blob ${body.claimCheck.blob} is not JSON.`);
      throw e;
    }
  }

  async #decrypt(notification: ChangeNotification): Promise<Record<string, unknown>> {
    const content = notification.encryptedContent!;
    const key = await this.#o.certificates.decryptionKey(content.encryptionCertificateId);
    if (!key) throw new PermanentFailure('unknown_certificate', `No certificate '${content.encryptionCertificateId}' in the store.`);
    try {
      const resource = decryptResourceData(content, key);
      if (!resource || typeof resource !== 'object' || Array.isArray(resource)) throw new DecryptionError('content_undecryptable', 'The decrypted content is not a JSON object.');
      return resource as Record<string, unknown>;
    } catch (e) {
      if (e instanceof DecryptionError) throw new PermanentFailure(e.reason, e.message);
      throw e;
    }
  }
}
