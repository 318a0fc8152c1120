import { randomUUID } from 'node:crypto';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import { restStatus } from '../errors.js';
import { decodeJsonMessage, encodeJsonMessage } from '../queue/json-message.js';
import { isClaimCheck, isQueueMessageBody, MAX_QUEUE_MESSAGE_CHARS } from '../queue/queued-notification.js';
import { readBlob } from '../queue/read-blob.js';
import { sendToQueue, uploadJson } from '../queue/storage-writes.js';
import type { DeadLetterReason } from './dead-letter-reason.js';

export const DEAD_LETTER_SCHEMA = 'teams-change-relay.dead-letter.v1';

/** A message that can never succeed as it is, kept with why, for a person to fix and replay. */
export interface DeadLetter {
  readonly schema: typeof DEAD_LETTER_SCHEMA;
  /** Why (stable: operators and replay filter on it), e.g. `signature_mismatch`, `unknown_certificate`, `no_route`. */
  readonly reason: DeadLetterReason;
  readonly error: string;
  readonly failedAt: string;
  /** The queue the original message came from, where replay puts it back. */
  readonly sourceQueue: string;
  /** The original message text, exactly as it was on the source queue. */
  readonly originalMessage: string;
  /**
   * When the original message is a claim check (a reference to a blob of the incoming queue's container):
   * that blob's content, copied when the letter was written, so the letter does not depend on the blob
   * surviving (claim-check blobs are deleted once their message is done, orphans expire). Replay writes it
   * back under the same name before it puts the original message back.
   */
  readonly referencedBlob?: { readonly container: string; readonly blob: string; readonly content: string };
}

/**
 * What the dead-letter queue holds for a letter too large for a queue message (64 KiB): the letter's
 * fields but its content, and where the whole letter (a DeadLetter, as JSON) is kept. The blob is kept as
 * long as the letter (replay deletes it once the original is back).
 */
export interface DeadLetterClaimCheck extends Omit<DeadLetter, 'originalMessage' | 'referencedBlob'> {
  readonly claimCheck: { readonly container: string; readonly blob: string; readonly bytes: number };
}

/** A dead-letter queue message as it is read: the letter whole, or a claim check of it. */
export type DeadLetterMessage = DeadLetter | DeadLetterClaimCheck;

/** The error text a claim check carries (the whole of it is in the blob). */
const CLAIM_CHECK_ERROR_CHARS = 2000;

/**
 * A queue message's text from the value a queue trigger handed over (the parsed JSON, or the text when it
 * was not JSON), encoded back as the app writes messages, so a replay puts back what was there.
 */
export function originalMessageText(triggerValue: unknown): string {
  return typeof triggerValue === 'string' ? Buffer.from(triggerValue, 'utf8').toString('base64') : encodeJsonMessage(triggerValue);
}

export function isDeadLetterClaimCheck(message: DeadLetterMessage): message is DeadLetterClaimCheck {
  return 'claimCheck' in message && typeof message.claimCheck === 'object' && message.claimCheck !== null;
}

/**
 * Writes dead letters, whatever their size: a letter that fits a queue message goes as it is; a larger one
 * (an original near the 64 KiB limit, wrapped and base64-encoded again, or the copy of a claim-check blob)
 * goes to a blob of `container` first, then its claim check to the queue, so a dead letter never fails on
 * the queue's size limit (413, which storage repeats on every try).
 */
export class DeadLetterQueue {
  readonly #queue: QueueClient;
  readonly #blobs: BlobServiceClient;
  readonly #container: string;

  /** `container`: where letters too large for a message are kept (not the incoming queue's container). */
  constructor(queue: QueueClient, blobs: BlobServiceClient, container: string) {
    this.#queue = queue;
    this.#blobs = blobs;
    this.#container = container;
  }

  get name(): string {
    return this.#queue.name;
  }

  async send(letter: Omit<DeadLetter, 'schema' | 'referencedBlob'>): Promise<void> {
    const referencedBlob = await this.#copyOfReferencedBlob(letter.originalMessage);
    const body: DeadLetter = { schema: DEAD_LETTER_SCHEMA, ...letter, ...(referencedBlob ? { referencedBlob } : {}) };
    const text = encodeJsonMessage(body);
    if (text.length <= MAX_QUEUE_MESSAGE_CHARS) return sendToQueue(this.#queue, text);

    const json = JSON.stringify(body);
    const blob = `${letter.failedAt.slice(0, 10)}/${randomUUID()}.json`;
    const container = this.#blobs.getContainerClient(this.#container);
    await uploadJson(container, blob, json);
    const { originalMessage: _content, referencedBlob: _copy, ...fields } = body;
    const claim: DeadLetterClaimCheck = { ...fields, error: fields.error.slice(0, CLAIM_CHECK_ERROR_CHARS), claimCheck: { container: this.#container, blob, bytes: Buffer.byteLength(json) } };
    try {
      await sendToQueue(this.#queue, encodeJsonMessage(claim));
    } catch (e) {
      // No letter points at the blob: remove it (if that fails too, an unreferenced blob is all that is left).
      await container.deleteBlob(blob).catch(() => undefined);
      throw e;
    }
  }

  /**
   * The content of the blob a claim-check original refers to, or undefined when the original is no claim
   * check or its blob is gone already (the letter then keeps the reference alone: nothing more to copy).
   */
  async #copyOfReferencedBlob(originalMessage: string): Promise<DeadLetter['referencedBlob']> {
    let body: unknown;
    try {
      body = decodeJsonMessage(originalMessage);
    } catch {
      return undefined;
    }
    if (!isQueueMessageBody(body) || !isClaimCheck(body)) return undefined;
    const { container, blob } = body.claimCheck;
    if (typeof container !== 'string' || typeof blob !== 'string') return undefined;
    try {
      const content = await readBlob(this.#blobs.getContainerClient(container).getBlobClient(blob));
      return { container, blob, content: content.toString('utf8') };
    } catch (e) {
      if (restStatus(e) === 404) return undefined;
      throw e;
    }
  }
}

/**
 * The whole letter a dead-letter queue message stands for (its blob read when it is a claim check), or
 * undefined when it is no dead letter of ours, or its blob is gone.
 */
export async function readDeadLetter(blobs: BlobServiceClient, messageText: string): Promise<{ letter: DeadLetter; claimCheck?: DeadLetterClaimCheck['claimCheck'] } | undefined> {
  let message: DeadLetterMessage;
  try {
    message = decodeJsonMessage<DeadLetterMessage>(messageText);
  } catch {
    return undefined;
  }
  if (message?.schema !== DEAD_LETTER_SCHEMA || typeof message.sourceQueue !== 'string' || !message.sourceQueue) return undefined;
  if (!isDeadLetterClaimCheck(message)) return typeof message.originalMessage === 'string' && message.originalMessage ? { letter: message } : undefined;
  let letter: DeadLetter;
  try {
    letter = JSON.parse((await readBlob(blobs.getContainerClient(message.claimCheck.container).getBlobClient(message.claimCheck.blob))).toString('utf8')) as DeadLetter;
  } catch (e) {
    if (restStatus(e) === 404 || e instanceof SyntaxError) return undefined;
    throw e;
  }
  if (letter?.schema !== DEAD_LETTER_SCHEMA || typeof letter.originalMessage !== 'string' || !letter.sourceQueue) return undefined;
  return { letter, claimCheck: message.claimCheck };
}
