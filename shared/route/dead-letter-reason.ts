import { RelayError } from '../errors.js';

/**
 * Every reason a dead letter gives (stable: operators, the status page and replay filter on it), as
 * docs/events.md lists them. The decryption failures are DecryptionError's own (decrypt-resource-data.ts).
 */
export const DEAD_LETTER_REASONS = [
  'signature_mismatch',
  'key_unwrap_failed',
  'thumbprint_mismatch',
  'content_undecryptable',
  'unknown_certificate',
  'certificate_format',
  'unsupported_resource',
  'no_route',
  'malformed_message',
  'claim_check_missing',
  'unexpected_lifecycle',
  'hydration_failed',
  'unprocessable',
  'poisoned',
] as const;

/** Why a message was dead-lettered: one of DEAD_LETTER_REASONS. */
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** A failure that no retry can mend, with no error class of its own: the message goes to the dead-letter queue at once. */
export class PermanentFailure extends RelayError {
  declare readonly permanentReason: DeadLetterReason;

  constructor(reason: DeadLetterReason, message: string) {
    super('ERR_PERMANENT_FAILURE', message, { permanentReason: reason });
  }
}
