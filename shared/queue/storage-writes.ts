import type { ContainerClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import { restErrorCode, restStatus } from '../errors.js';

/** Azure Storage's time-to-live for a message that never expires (the service default is 7 days). */
export const NEVER_EXPIRES = -1;

const isNotFound = (e: unknown, code: string) => restStatus(e) === 404 && restErrorCode(e) === code;

/**
 * Sends a message, creating the queue on the first 404 (one create, one retry): the hot path pays for no
 * existence check. Messages the app writes never expire unless a time-to-live (seconds) is given: a
 * consumer outage longer than the service's 7-day default must not lose anything.
 */
export interface SendOptions {
  readonly abortSignal?: AbortSignal;
  /** Seconds; the default: never expire. */
  readonly timeToLiveSeconds?: number;
  /** Seconds before the message becomes visible (a delay); the default: at once. */
  readonly visibilityTimeoutSeconds?: number;
}

export async function sendToQueue(queue: QueueClient, text: string, { abortSignal, timeToLiveSeconds = NEVER_EXPIRES, visibilityTimeoutSeconds }: SendOptions = {}): Promise<void> {
  const options = { abortSignal, messageTimeToLive: timeToLiveSeconds, ...(visibilityTimeoutSeconds ? { visibilityTimeout: visibilityTimeoutSeconds } : {}) };
  try {
    await queue.sendMessage(text, options);
  } catch (e) {
    if (!isNotFound(e, 'QueueNotFound')) throw e;
    await queue.createIfNotExists({ abortSignal });
    await queue.sendMessage(text, options);
  }
}

/** Writes a JSON blob, creating the container on the first 404. Returns the blob's URL. */
export async function uploadJson(container: ContainerClient, name: string, json: string, abortSignal?: AbortSignal): Promise<string> {
  const blob = container.getBlockBlobClient(name);
  const upload = () => blob.upload(json, Buffer.byteLength(json), { abortSignal, blobHTTPHeaders: { blobContentType: 'application/json' } });
  try {
    await upload();
  } catch (e) {
    if (!isNotFound(e, 'ContainerNotFound')) throw e;
    await container.createIfNotExists({ abortSignal });
    await upload();
  }
  return blob.url;
}
