import { isRestError } from '@azure/core-rest-pipeline';
import type { DeadLetterReason } from './route/dead-letter-reason.js';
import { maskSecrets } from './util/mask-secrets.js';

/**
 * Typed errors with a stable `code`. Tests and callers branch on `code`, never on message text.
 */
export class RelayError extends Error {
  readonly code: string;
  /**
   * Set by the errors no retry can mend (the input itself is bad): the dead letter's reason. Such a message
   * is dead-lettered at once instead of being retried into the poison queue; without it an error is transient.
   */
  declare readonly permanentReason?: DeadLetterReason;

  /** The message is kept with every credential in a URL masked: errors are logged, stored and shown. */
  constructor(code: string, message: string, options?: { cause?: unknown; permanentReason?: DeadLetterReason }) {
    super(maskSecrets(message), options);
    this.name = new.target.name;
    this.code = code;
    if (options?.permanentReason !== undefined) this.permanentReason = options.permanentReason;
  }
}

/** One or more settings are missing or wrong; the message names each of them. */
export class ConfigError extends RelayError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('ERR_CONFIG', `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` + problems.map((p) => `  - ${p}`).join('\n'));
    this.problems = problems;
  }
}

/** Storage did not take what we gave it in time: the caller must not acknowledge the data. */
export class StorageUnavailableError extends RelayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_STORAGE_UNAVAILABLE', message, options);
  }
}

/** A request we refuse because of what the client sent (HTTP 4xx). */
export class BadRequestError extends RelayError {
  readonly status: 400 | 413 | 415;

  constructor(code: string, status: 400 | 413 | 415, message: string) {
    super(code, message);
    this.status = status;
  }
}

/**
 * An accepted item could not be turned into a queue message (JSON.stringify threw: a cycle, a BigInt, a
 * nesting deeper than the stack). Nothing of the batch was stored; not a storage failure, so not a 503.
 */
export class UnserializableNotificationError extends RelayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_NOTIFICATION_UNSERIALIZABLE', message, options);
  }
}

/**
 * A certificate is stored in a format the app does not read: Key Vault versions must use the PEM content
 * type (`application/x-pem-file`), see docs/deploy.md. Permanent for the notifications it encrypted.
 */
export class CertificateFormatError extends RelayError {
  constructor(message: string) {
    super('ERR_CERTIFICATE_FORMAT', message, { permanentReason: 'certificate_format' });
  }
}

/**
 * A definition the operator wrote is wrong: the routing or subscriptions file, a storage connection setting.
 * The message names each mistake; start-up turns it into a ConfigError line.
 */
export class InvalidDefinitionError extends RelayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_INVALID_DEFINITION', message, options);
  }
}

/** No certificate to decrypt with or subscribe under: none in the store, or a PEM without its certificate or key. */
export class CertificateUnavailableError extends RelayError {
  constructor(message: string) {
    super('ERR_CERTIFICATE_UNAVAILABLE', message);
  }
}

/**
 * The HTTP status of an Azure SDK error (storage queues, blobs and tables, Key Vault: the SDK's `RestError`),
 * or undefined for any other error and for a request that got no answer.
 */
export function restStatus(e: unknown): number | undefined {
  return isRestError(e) ? e.statusCode : undefined;
}

/** The service's error code of an Azure SDK error (storage: `x-ms-error-code`, such as `QueueNotFound`). */
export function restErrorCode(e: unknown): string | undefined {
  return isRestError(e) ? e.code : undefined;
}
