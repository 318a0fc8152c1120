import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import type { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { StorageUnavailableError, UnserializableNotificationError } from '../errors.js';
import { Semaphore } from '../util/semaphore.js';
import { encodeJsonMessage } from './json-message.js';
import { sendToQueue, uploadJson } from './storage-writes.js';
import { MAX_QUEUE_MESSAGE_CHARS, QUEUED_BATCH_SCHEMA, type NotificationKind, type QueuedBatch, type QueuedClaimCheck, type QueuedGapRequest, type QueuedNotification } from './queued-notification.js';

/** One queue message to write: its body (the claim-check blob's content when over the limit) and text. */
interface EncodedMessage {
  readonly kind: NotificationKind;
  readonly receivedAt: string;
  readonly body: QueuedNotification | QueuedBatch;
  /** The queue message text. */
  readonly text: string;
}

function encode(body: QueuedNotification | QueuedBatch): EncodedMessage {
  try {
    return { kind: body.kind, receivedAt: body.receivedAt, body, text: encodeJsonMessage(body) };
  } catch (e) {
    // Only the kind of failure (RangeError: too deep; TypeError: cycle or BigInt): V8's message quotes keys.
    throw new UnserializableNotificationError(`A notification cannot be serialised (${(e as Error).name}).`);
  }
}

/**
 * The messages for one request's accepted items: the change notifications and the gaps asked for as ONE v2
 * message (one durable write per Graph request); lifecycle notifications, which are rare, one v1 message each
 * as before.
 */
function messagesFor(items: readonly QueuedNotification[], gaps: readonly QueuedGapRequest[]): EncodedMessage[] {
  const changes = items.filter((i) => i.kind === 'change');
  const messages = items.filter((i) => i.kind !== 'change').map(encode);
  if (changes.length > 0 || gaps.length > 0) {
    // A gap's window ends when its request was received: the batch's time when it holds no item.
    const receivedAt = changes[0]?.receivedAt ?? gaps[0]!.to;
    messages.unshift(encode({ schema: QUEUED_BATCH_SCHEMA, kind: 'change', receivedAt, items: changes.map((i) => i.notification), ...(gaps.length > 0 ? { gaps } : {}) }));
  }
  return messages;
}

/**
 * The durable half of the receive path: stores accepted notifications, or throws StorageUnavailableError
 * (storage failed) or UnserializableNotificationError (an item cannot be written at all; nothing stored).
 */
export interface StoreOptions {
  /** Backfill gaps to ask for, in the same message as the items (see QueuedGapRequest). */
  readonly gaps?: readonly QueuedGapRequest[];
  /** A bound for this call shorter than the store's own (what is left of the caller's deadline). */
  readonly timeoutMs?: number;
}

export interface NotificationStore {
  /**
   * Resolves only once every item (and every gap asked for) is durably stored. `timeoutMs`: a shorter bound
   * for this call (what is left of the caller's deadline) than the store's own.
   */
  storeAll(items: readonly QueuedNotification[], options?: StoreOptions): Promise<void>;
}

export interface StorageNotificationStoreOptions {
  readonly queueService: QueueServiceClient;
  readonly blobService: BlobServiceClient;
  /** Change notifications: one queue, or the partitions (see notificationQueueNames) taken in turn. */
  readonly queues: { readonly change: string | readonly string[]; readonly lifecycle: string };
  readonly container: string;
  /** Upper bound for one storeAll, retries included. */
  readonly timeoutMs: number;
  /**
   * Storage calls in flight at once across all requests of this instance. Waiting is first come, first
   * served, so under overload the oldest batches finish first instead of every batch timing out.
   */
  readonly concurrency?: number;
}

/**
 * Azure Storage queues (and a blob container for claim checks) behind NotificationStore. Queues and the
 * container are created on first use when missing (a 404 triggers one create and one retry), so the
 * receive path never pays for existence checks.
 */
export class StorageNotificationStore implements NotificationStore {
  readonly #changeQueues: readonly QueueClient[];
  readonly #lifecycleQueue: QueueClient;
  #nextPartition = 0;
  readonly #container: ContainerClient;
  readonly #timeoutMs: number;
  readonly #slots: Semaphore;

  constructor(options: StorageNotificationStoreOptions) {
    const change = typeof options.queues.change === 'string' ? [options.queues.change] : options.queues.change;
    if (change.length === 0) throw new RangeError('At least one change notification queue is needed.');
    this.#changeQueues = change.map((name) => options.queueService.getQueueClient(name));
    this.#lifecycleQueue = options.queueService.getQueueClient(options.queues.lifecycle);
    this.#container = options.blobService.getContainerClient(options.container);
    this.#timeoutMs = options.timeoutMs;
    this.#slots = new Semaphore(options.concurrency ?? 64);
  }

  async storeAll(items: readonly QueuedNotification[], { gaps = [], timeoutMs = this.#timeoutMs }: StoreOptions = {}): Promise<void> {
    if (items.length === 0 && gaps.length === 0) return;
    const boundMs = Math.min(timeoutMs, this.#timeoutMs);
    const encoded = messagesFor(items, gaps); // before any write: an item that cannot be serialised stores none
    const controller = new AbortController();
    setMaxListeners(0, controller.signal); // every concurrent send listens to the one deadline
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new StorageUnavailableError(`Storage did not take the batch within ${boundMs} ms.`));
      }, boundMs);
    });
    try {
      await Promise.race([Promise.all(encoded.map((message) => this.#slots.run(() => this.#storeOne(message, controller.signal), controller.signal))), deadline]);
    } catch (e) {
      controller.abort();
      if (e instanceof StorageUnavailableError) throw e;
      throw new StorageUnavailableError(`Storage refused the batch: ${(e as Error).message}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The queue for a message: lifecycle's, or the next change partition in turn (they fill evenly). */
  #queueFor(kind: NotificationKind): QueueClient {
    if (kind === 'lifecycle') return this.#lifecycleQueue;
    this.#nextPartition = (this.#nextPartition + 1) % this.#changeQueues.length;
    return this.#changeQueues[this.#nextPartition]!;
  }

  async #storeOne({ kind, receivedAt, body, text }: EncodedMessage, abortSignal: AbortSignal): Promise<void> {
    const queue = this.#queueFor(kind);
    if (text.length <= MAX_QUEUE_MESSAGE_CHARS) {
      await sendToQueue(queue, text, { abortSignal });
      return;
    }
    // The blob first, then the message pointing at it: a message never points at a missing blob.
    const json = JSON.stringify(body);
    const blob = `${receivedAt.slice(0, 10)}/${randomUUID()}.json`;
    await uploadJson(this.#container, blob, json, abortSignal);
    const ref: QueuedClaimCheck = {
      schema: body.schema,
      kind,
      receivedAt,
      ...(body.schema === QUEUED_BATCH_SCHEMA ? { count: body.items.length } : {}),
      claimCheck: { container: this.#container.containerName, blob, bytes: Buffer.byteLength(json) },
    };
    await sendToQueue(queue, encodeJsonMessage(ref), { abortSignal });
  }
}
