import { isRestError } from '@azure/core-rest-pipeline';
import { RelayError, restErrorCode, restStatus } from '../../shared/errors.js';

/**
 * How the Storage extension's queue listener treats a failed storage call. Polling: a missing queue
 * (404 QueueNotFound), a queue being deleted or disabled (409) and server errors (5xx) are logged and
 * backed off from; anything else is thrown out of the listener, and the host's unhandled-exception handler
 * shuts the host down ("An unhandled exception has occurred. Host is shutting down."): a 403 from a wrong key,
 * a SAS without the permission or a missing role faults the host instead of polling forever. Completing a
 * message (delete, release, lease renewal): a pop receipt that no longer matches (400), a message or queue
 * gone (404) and a queue being deleted or disabled (409) are ignored; anything else faults likewise.
 *
 * One difference, on purpose: a call that got no answer at all (connection refused or reset, after the SDK's
 * own retries) is treated like a server error and backed off from. The host's SDK gives up with an exception
 * that is not a RequestFailedException and shuts the host down, which the platform then restarts; a local
 * host has nobody to restart it, and the chaos and outage tests stop and restart Azurite under it.
 */
export interface StorageFailure {
  /** HTTP status, absent when the call got no answer. */
  readonly status: number | undefined;
  /** The storage error code (x-ms-error-code), such as AuthenticationFailed or QueueNotFound. */
  readonly code: string | undefined;
  readonly message: string;
}

export function storageFailure(e: unknown): StorageFailure {
  const statusCode = restStatus(e);
  const status = statusCode !== undefined && statusCode > 0 ? statusCode : undefined;
  const details = isRestError(e) ? (e.details as { errorCode?: unknown } | undefined) : undefined;
  const detailCode = typeof details?.errorCode === 'string' ? details.errorCode : undefined;
  const code = detailCode ?? restErrorCode(e) ?? (e instanceof Error ? (e as NodeJS.ErrnoException).code : undefined);
  const message = e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e);
  return { status, code, message };
}

const QUEUE_DOWN = new Set(['QueueBeingDeleted', 'QueueDisabled']);

export type PollFailureKind = 'queue-missing' | 'transient' | 'fatal';

/** What the listener does when receiving messages fails. */
export function classifyPollFailure(f: StorageFailure): PollFailureKind {
  if (f.status === undefined) return 'transient';
  if (f.status === 404 && f.code === 'QueueNotFound') return 'queue-missing';
  if (f.status === 409 && QUEUE_DOWN.has(f.code ?? '')) return 'transient';
  if (f.status >= 500) return 'transient';
  return 'fatal';
}

export type CompletionFailureKind = 'ignored' | 'transient' | 'fatal';

/** What the listener does when deleting, releasing or renewing a message fails. */
export function classifyCompletionFailure(f: StorageFailure): CompletionFailureKind {
  if (f.status === undefined || f.status >= 500) return 'transient';
  if (f.status === 400 && f.code === 'PopReceiptMismatch') return 'ignored';
  if (f.status === 404 && (f.code === 'MessageNotFound' || f.code === 'QueueNotFound')) return 'ignored';
  if (f.status === 409 && QUEUE_DOWN.has(f.code ?? '')) return 'ignored';
  return 'fatal';
}

/** A storage failure the host does not tolerate: the listener stops and the host shuts down. */
export class ListenerFaultError extends RelayError {
  constructor(
    readonly functionName: string,
    readonly queueName: string,
    readonly operation: string,
    readonly failure: StorageFailure,
  ) {
    super(
      'ERR_LISTENER_FAULTED',
      `The queue listener of function "${functionName}" (queue "${queueName}") faulted: ${operation} answered ` +
        `${failure.status ?? 'nothing'}${failure.code ? ` ${failure.code}` : ''} (${failure.message}).` +
        (failure.status === 403 || failure.status === 401
          ? " Check the storage credentials: the account key or SAS of the connection, or the identity's roles (Storage Queue Data Contributor or Reader + Message Processor)."
          : ''),
    );
  }
}
