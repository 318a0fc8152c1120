import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import type { QueueServiceClient } from '@azure/storage-queue';
import { encodeJsonMessage } from '../queue/json-message.js';
import { MAX_QUEUE_MESSAGE_CHARS } from '../queue/queued-notification.js';
import { sendToQueue, uploadJson } from '../queue/storage-writes.js';
import type { TeamsCloudEvent } from './teams-event.js';

/** Publishes events to downstream queues. */
export interface EventPublisher {
  publish(event: TeamsCloudEvent, queues: readonly string[]): Promise<void>;
}

/**
 * Azure Storage queues as the downstream: each message is base64 UTF-8 JSON (what a queue trigger reads
 * with no setting). An event too large for a message is written whole to a blob, and the message carries
 * the event without `data` and with the CloudEvents `dataref` attribute pointing at the blob.
 */
export class QueueEventPublisher implements EventPublisher {
  readonly #queues: QueueServiceClient;
  readonly #container: ContainerClient;

  constructor(queues: QueueServiceClient, blobs: BlobServiceClient, container: string) {
    this.#queues = queues;
    this.#container = blobs.getContainerClient(container);
  }

  async publish(event: TeamsCloudEvent, queues: readonly string[]): Promise<void> {
    let text = encodeJsonMessage(event);
    if (text.length > MAX_QUEUE_MESSAGE_CHARS) {
      const url = await uploadJson(this.#container, `${event.time.slice(0, 10)}/${event.id}.json`, JSON.stringify(event));
      const { data: _data, ...withoutData } = event;
      text = encodeJsonMessage({ ...withoutData, dataref: url });
    }
    await Promise.all(queues.map((q) => sendToQueue(this.#queues.getQueueClient(q), text)));
  }
}
