import type { DequeuedMessageItem, QueueClient, QueueServiceClient } from '@azure/storage-queue';
import type { FunctionRegistry, Registration, TypedData } from './core-api.js';
import type { HostLog } from './host-log.js';
import type { QueueOptions } from './host-options.js';
import { invokeFunction, logInvocation } from './invoke-function.js';
import { PollingBackoff } from './polling-backoff.js';
import { classifyCompletionFailure, classifyPollFailure, ListenerFaultError, storageFailure } from './storage-errors.js';

/** The lease the host takes on a message while its function runs, renewed at half of it. */
const LEASE_SECONDS = 600;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface QueueListenerOptions {
  readonly registry: FunctionRegistry;
  readonly registration: Registration;
  readonly triggerName: string;
  readonly queueName: string;
  readonly queueService: QueueServiceClient;
  /** host.json's extensions.queues, after defaults. */
  readonly queueOptions: QueueOptions;
  readonly log: HostLog;
  readonly appHookData: Record<string, unknown>;
  /** Lease length in seconds; the host's is 10 minutes. */
  readonly leaseSeconds?: number;
  /**
   * Called once when a storage call fails in a way the host does not tolerate (a 403, say): the listener has
   * stopped fetching, and the host shuts down, as Azure's does.
   */
  readonly onFault?: (error: ListenerFaultError) => void;
  /** The random source of the polling back-off's jitter. */
  readonly random?: () => number;
  /** host.json functionTimeout: an invocation over it fails, and the message is released for a retry. */
  readonly functionTimeoutMs?: number | undefined;
}

/** "2022-09-01T05:06:39+00:00", the form the host gives queue trigger times in. */
function hostTime(d: Date | undefined): string | undefined {
  return d ? d.toISOString().replace(/\.\d{3}Z$/, '+00:00') : undefined;
}

/**
 * One queue trigger, with the Storage extension's semantics: randomized exponential back-off polling
 * (100 ms to maxPollingInterval, see PollingBackoff), batches of batchSize fetched while no more than newBatchThreshold
 * messages are in flight, a renewed lease while the function runs, delete on success, visibilityTimeout
 * on failure, and `<queue>-poison` after maxDequeueCount attempts (or at once for a body that is not
 * base64 when messageEncoding is base64). A storage failure the host does not tolerate (see storage-errors.ts)
 * stops the listener and reports it through `onFault`.
 */
export class QueueListener {
  readonly #options: QueueListenerOptions;
  readonly #queue: QueueClient;
  readonly #poisonName: string | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  #stopping = false;
  #faulted = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #poisonReady = false;
  #warnedMissing = false;

  constructor(options: QueueListenerOptions) {
    this.#options = options;
    this.#queue = options.queueService.getQueueClient(options.queueName);
    const poison = `${options.queueName}-poison`;
    this.#poisonName = options.queueName.endsWith('-poison') || poison.length > 63 ? undefined : poison;
  }

  get queueName(): string {
    return this.#options.queueName;
  }

  get functionName(): string {
    return this.#options.registration.metadata.name;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops fetching and waits for the messages in flight to finish. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
  }

  async #run(): Promise<void> {
    const { batchSize, newBatchThreshold, maxPollingIntervalMs } = this.#options.queueOptions;
    const backoff = new PollingBackoff(maxPollingIntervalMs, this.#options.random);
    let foundSinceLastWait = false;
    while (!this.#stopping) {
      // As the host: after a batch, fetch the next one only once no more than newBatchThreshold are in flight.
      while (this.#inFlight.size > newBatchThreshold && !this.#stopping) {
        await Promise.race([...this.#inFlight, this.#sleep(maxPollingIntervalMs)]);
      }
      if (this.#stopping) break;
      let messages: DequeuedMessageItem[] = [];
      try {
        const response = await this.#queue.receiveMessages({ numberOfMessages: batchSize, visibilityTimeout: this.#options.leaseSeconds ?? LEASE_SECONDS });
        messages = response.receivedMessageItems;
        this.#warnedMissing = false;
      } catch (e) {
        const failure = storageFailure(e);
        const kind = classifyPollFailure(failure);
        if (kind === 'fatal') {
          this.#fault('receive messages', failure);
          break;
        }
        if (kind === 'queue-missing') {
          if (!this.#warnedMissing) this.#options.log.host('info', 'queue.waiting_for_queue', { queue: this.#options.queueName });
          this.#warnedMissing = true;
        } else {
          this.#options.log.host('warn', 'queue.poll_failed', { queue: this.#options.queueName, status: failure.status, code: failure.code, error: failure.message });
        }
      }
      if (messages.length > 0) {
        foundSinceLastWait = true;
        for (const message of messages) {
          const p: Promise<void> = this.#process(message)
            .catch((e: Error) => this.#options.log.host('error', 'queue.process_failed', { queue: this.#options.queueName, messageId: message.messageId, error: e.message }))
            .finally(() => this.#inFlight.delete(p));
          this.#inFlight.add(p);
        }
        continue;
      }
      await this.#sleep(backoff.next(foundSinceLastWait));
      foundSinceLastWait = false;
    }
  }

  /** Stops fetching and tells the host, once. */
  #fault(operation: string, failure: ReturnType<typeof storageFailure>): void {
    if (this.#faulted) return;
    this.#faulted = true;
    this.#stopping = true;
    this.#wake?.();
    this.#options.onFault?.(new ListenerFaultError(this.functionName, this.#options.queueName, operation, failure));
  }

  /** A failed delete, release, renewal or poison copy: ignored, logged, or a fault, as the host treats it. */
  #completionFailed(operation: string, e: unknown, fields: Record<string, unknown>): void {
    const failure = storageFailure(e);
    const kind = classifyCompletionFailure(failure);
    if (kind === 'fatal') this.#fault(operation, failure);
    else if (kind === 'transient') this.#options.log.host('warn', 'queue.complete_failed', { ...fields, operation, status: failure.status, code: failure.code, error: failure.message });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  async #process(message: DequeuedMessageItem): Promise<void> {
    const { maxDequeueCount, messageEncoding, visibilityTimeoutMs } = this.#options.queueOptions;
    const name = this.#options.registration.metadata.name;
    const base = { queue: this.#options.queueName, messageId: message.messageId, dequeueCount: message.dequeueCount };

    if (message.dequeueCount > maxDequeueCount) {
      await this.#toPoison(message, 'dequeue count over the maximum before invocation');
      return;
    }
    let body = message.messageText;
    if (messageEncoding === 'base64') {
      if (!BASE64.test(body)) {
        await this.#toPoison(message, 'message is not valid base64');
        return;
      }
      body = Buffer.from(body, 'base64').toString('utf8');
    }

    let popReceipt = message.popReceipt;
    const leaseMs = (this.#options.leaseSeconds ?? LEASE_SECONDS) * 1000;
    const renew = setInterval(() => {
      this.#queue
        .updateMessage(message.messageId, popReceipt, undefined, this.#options.leaseSeconds ?? LEASE_SECONDS)
        .then((r) => (popReceipt = r.popReceipt ?? popReceipt))
        .catch((e: unknown) => this.#completionFailed('renew the message lease', e, base));
    }, leaseMs / 2);

    const json = (v: unknown): TypedData => ({ json: JSON.stringify(v) });
    const triggerMetadata: Record<string, TypedData> = {
      QueueTrigger: { string: body },
      DequeueCount: json(message.dequeueCount),
      Id: { string: message.messageId },
      PopReceipt: { string: message.popReceipt },
      InsertionTime: json(hostTime(message.insertedOn)),
      ExpirationTime: json(hostTime(message.expiresOn)),
      NextVisibleTime: json(hostTime(message.nextVisibleOn)),
    };
    const outcome = await invokeFunction(
      this.#options.registry,
      this.#options.registration,
      { inputData: [{ name: this.#options.triggerName, data: { string: body } }], triggerMetadata },
      this.#options.log,
      this.#options.appHookData,
      this.#options.functionTimeoutMs,
    );
    clearInterval(renew);
    logInvocation(this.#options.log, name, 'queue', outcome, base);

    try {
      if (outcome.ok) {
        await this.#queue.deleteMessage(message.messageId, popReceipt);
      } else if (!this.#poisonName) {
        // As the host does for a queue with no poison queue of its own (a `-poison` queue): the failed message is
        // not released but left invisible until its lease ends (10 minutes), so a failing one cannot spin.
        this.#options.log.host('warn', 'queue.message_left_invisible', { ...base, leaseSeconds: this.#options.leaseSeconds ?? LEASE_SECONDS });
      } else if (message.dequeueCount >= maxDequeueCount) {
        await this.#toPoison({ ...message, popReceipt }, `failed ${message.dequeueCount} times`);
        return;
      } else {
        await this.#queue.updateMessage(message.messageId, popReceipt, undefined, Math.round(visibilityTimeoutMs / 1000));
      }
    } catch (e) {
      this.#completionFailed(outcome.ok ? 'delete the message' : 'release the message', e, base);
    }
  }

  /** Copies the original text to `<queue>-poison` (a new message) and deletes the original. */
  async #toPoison(message: DequeuedMessageItem, reason: string): Promise<void> {
    const fields = { queue: this.#options.queueName, messageId: message.messageId, dequeueCount: message.dequeueCount, reason };
    if (!this.#poisonName) {
      this.#options.log.host('error', 'queue.message_poisoned_no_poison_queue', fields);
      return;
    }
    const poison = this.#options.queueService.getQueueClient(this.#poisonName);
    try {
      if (!this.#poisonReady) {
        await poison.createIfNotExists();
        this.#poisonReady = true;
      }
      await poison.sendMessage(message.messageText);
    } catch (e) {
      this.#completionFailed('copy the message to the poison queue', e, fields);
      return;
    }
    try {
      await this.#queue.deleteMessage(message.messageId, message.popReceipt);
    } catch (e) {
      this.#completionFailed('delete the poisoned message', e, fields);
      return;
    }
    this.#options.log.host('warn', 'queue.message_poisoned', { ...fields, poisonQueue: this.#poisonName });
  }
}
