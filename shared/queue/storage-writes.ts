import type { ContainerClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import { restErrorCode, restStatus } from '../errors.js';

/** Azure Storage's time-to-live for a message that never expires (the service default is 7 days). */
export const NEVER_EXPIRES = -1;

const isNotFound = (e: unknown, code: string) => restStatus(e) === 404 && restErrorCode(e) === code;

/** How `sendToQueue` sends. */
export interface SendOptions {
  readonly abortSignal?: AbortSignal;
  /** Seconds; the default: never expire. */
  readonly timeToLiveSeconds?: number;
  /** Seconds before the message becomes visible (a delay); the default: at once. */
  readonly visibilityTimeoutSeconds?: number;
}

/**
 * Per queue URL, the first send of this process while it is in flight: the sends that come meanwhile wait for
 * it, so a queue that does not exist yet (a first deployment, a storage account reset) costs one 404 and one
 * create, not one of each for every send in flight at that moment (a batch's 64 items, 32 receiving requests).
 */
const firstSends = new Map<string, Promise<void>>();
/** Queue URLs a send of this process reached: sends to them go at once. */
const reached = new Set<string>();
/**
 * A send waits this long at most for the first one (a queue's create takes milliseconds), then goes on its
 * own: a first send that storage keeps retrying must not hold the others (nor the publisher's slots they are
 * in) for its whole retry budget before they start their own.
 */
export const FIRST_SEND_WAIT_MS = 5000;

/**
 * Sends a message, creating the queue on a 404 (one create, one retry): the hot path pays for no existence
 * check. Messages the app writes never expire unless a time-to-live (seconds) is given: a consumer outage
 * longer than the service's 7-day default must not lose anything.
 */
export async function sendToQueue(queue: QueueClient, text: string, options: SendOptions = {}): Promise<void> {
  if (!reached.has(queue.url)) {
    const first = firstSends.get(queue.url);
    if (!first) {
      const sending = sendCreatingQueue(queue, text, options);
      firstSends.set(queue.url, sending);
      try {
        return await sending;
      } finally {
        firstSends.delete(queue.url);
      }
    }
    await waitForFirst(first, options.abortSignal); // whatever became of it: this send goes on its own
  }
  await sendCreatingQueue(queue, text, options);
}

async function sendCreatingQueue(queue: QueueClient, text: string, { abortSignal, timeToLiveSeconds = NEVER_EXPIRES, visibilityTimeoutSeconds }: SendOptions): Promise<void> {
  const options = { abortSignal, messageTimeToLive: timeToLiveSeconds, ...(visibilityTimeoutSeconds ? { visibilityTimeout: visibilityTimeoutSeconds } : {}) };
  try {
    await queue.sendMessage(text, options);
  } catch (e) {
    if (!isNotFound(e, 'QueueNotFound')) throw e;
    reached.delete(queue.url); // deleted since: the sends that come next wait for one that creates it again
    await queue.createIfNotExists({ abortSignal });
    await queue.sendMessage(text, options);
  }
  reached.add(queue.url);
}

/**
 * Resolves when `first` settles or FIRST_SEND_WAIT_MS have passed, whichever comes first; rejects with the
 * signal's reason if `signal` aborts before.
 */
function waitForFirst(first: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  signal?.throwIfAborted();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: () => void = () => undefined;
  const waited = new Promise<void>((resolve, reject) => {
    first.then(resolve, () => resolve());
    timer = setTimeout(resolve, FIRST_SEND_WAIT_MS);
    onAbort = () => reject(signal?.reason as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  return waited.finally(() => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  });
}

/**
 * Writes a JSON blob, creating the container on the first 404. Returns the blob's URL without any query
 * string: a client built from a SAS connection string carries the app's SAS in `blob.url`, and the URL is
 * handed to others (an event's `dataref`), who read it with credentials of their own.
 */
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
  return urlWithoutQuery(blob.url);
}

function urlWithoutQuery(url: string): string {
  const bare = new URL(url);
  bare.search = '';
  return bare.toString();
}
