import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import type { QueueServiceClient } from '@azure/storage-queue';
import { encodeJsonMessage } from '../queue/json-message.js';
import { MAX_QUEUE_MESSAGE_CHARS } from '../queue/queued-notification.js';
import { NEVER_EXPIRES, sendToQueue, uploadJson } from '../queue/storage-writes.js';
import { Semaphore } from '../util/semaphore.js';
import type { TeamsCloudEvent } from './teams-event.js';

/** Per queue, whether it took the event. */
export interface PublishResult {
  readonly published: readonly string[];
  readonly failed: readonly { readonly queue: string; readonly error: unknown }[];
}

/** Publishes events to downstream queues. */
export interface EventPublisher {
  /** Resolves with what each queue did; rejects only when no queue could be tried (the payload blob failed). */
  publish(event: TeamsCloudEvent, queues: readonly string[]): Promise<PublishResult>;
}

export interface QueueEventPublisherOptions {
  /** Time-to-live of downstream messages in seconds; -1 (the default): never expire. */
  readonly timeToLiveSeconds?: number;
}

/**
 * Storage requests one publisher has in flight at most. A process routes up to batchSize + newBatchThreshold
 * messages at once (16 + 8 per core), each up to 64 items at once: unbounded, a backlog of large requests
 * put over a thousand sends in flight, each on a connection of its own, and the HTTP agent keeps 256 idle connections, so most were
 * opened for one send and closed after it (in Azure, a TLS handshake each). 128 sends in flight are far
 * more than a queue takes (about 2,000 messages/s at 10 to 20 ms a send).
 */
export const PUBLISHES_IN_FLIGHT = 128;

/**
 * The payload blob of an event over 64 KiB: `<tenant id>/<date>/<event id>.json`, under its tenant so that
 * `tenants remove --purge` deletes a tenant's payloads by prefix (blobs written before #28 are
 * `<date>/<event id>.json`, left to the retention).
 */
export const eventPayloadBlobName = (event: Pick<TeamsCloudEvent, 'tenantid' | 'time' | 'id'>) => `${event.tenantid.toLowerCase()}/${event.time.slice(0, 10)}/${event.id}.json`;

/**
 * Azure Storage queues as the downstream: each message is base64 UTF-8 JSON (what a queue trigger reads
 * with no setting). An event too large for a message is written whole to a blob, and the message carries
 * the event without `data` and with the CloudEvents `dataref` attribute pointing at the blob.
 */
export class QueueEventPublisher implements EventPublisher {
  readonly #queues: QueueServiceClient;
  readonly #container: ContainerClient;
  readonly #ttl: number;
  readonly #inFlight = new Semaphore(PUBLISHES_IN_FLIGHT);

  constructor(queues: QueueServiceClient, blobs: BlobServiceClient, container: string, options: QueueEventPublisherOptions = {}) {
    this.#queues = queues;
    this.#container = blobs.getContainerClient(container);
    this.#ttl = options.timeToLiveSeconds ?? NEVER_EXPIRES;
  }

  async publish(event: TeamsCloudEvent, queues: readonly string[]): Promise<PublishResult> {
    let text = encodeJsonMessage(event);
    if (text.length > MAX_QUEUE_MESSAGE_CHARS) {
      const json = JSON.stringify(event);
      const url = await this.#inFlight.run(() => uploadJson(this.#container, eventPayloadBlobName(event), json));
      const { data: _data, ...withoutData } = event;
      text = encodeJsonMessage({ ...withoutData, dataref: url });
    }
    const settled = await Promise.allSettled(queues.map((q) => this.#inFlight.run(() => sendToQueue(this.#queues.getQueueClient(q), text, { timeToLiveSeconds: this.#ttl }))));
    return {
      published: queues.filter((_, i) => settled[i]?.status === 'fulfilled'),
      failed: settled.flatMap((s, i) => (s.status === 'rejected' ? [{ queue: queues[i] ?? '', error: s.reason as unknown }] : [])),
    };
  }
}
