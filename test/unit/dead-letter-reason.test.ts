import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecryptionError, type DecryptionFailure } from '../../shared/certificates/decrypt-resource-data.js';
import { CertificateFormatError, CertificateUnavailableError, StorageUnavailableError } from '../../shared/errors.js';
import { KeySetUnreachableError } from '../../shared/receive/remote-key-set.js';
import { DEAD_LETTER_REASONS, PermanentFailure } from '../../shared/route/dead-letter-reason.js';
import { permanentReason } from '../../shared/route/notification-processor.js';
import { HydrationFailedError } from '../../shared/route/resource-hydrator.js';
import { EventInFlightError } from '../../shared/route/routed-event-log.js';
import { UnsupportedResourceError } from '../../shared/route/teams-event.js';
import { canonicalJson, MAX_CANONICAL_DEPTH, NestingTooDeepError } from '../../shared/util/canonical-json.js';

const DECRYPTION_FAILURES: readonly DecryptionFailure[] = ['thumbprint_mismatch', 'key_unwrap_failed', 'signature_mismatch', 'content_undecryptable'];

describe('permanentReason: the error says whether a retry can mend it', () => {
  it("gives each permanent error class's own dead-letter reason", () => {
    expect(permanentReason(new PermanentFailure('no_route', 'x'))).toBe('no_route');
    expect(permanentReason(new PermanentFailure('unexpected_lifecycle', 'x'))).toBe('unexpected_lifecycle');
    expect(permanentReason(new UnsupportedResourceError('x'))).toBe('unsupported_resource');
    expect(permanentReason(new HydrationFailedError('x'))).toBe('hydration_failed');
    expect(permanentReason(new CertificateFormatError('x'))).toBe('certificate_format');
    expect(permanentReason(new NestingTooDeepError())).toBe('malformed_message');
    for (const failure of DECRYPTION_FAILURES) expect(permanentReason(new DecryptionError(failure, 'x'))).toBe(failure);
  });

  it('reads the reason off an error thrown deep in our code, as the processor meets it', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i <= MAX_CANONICAL_DEPTH + 1; i++) deep = [deep];
    let error: unknown;
    try {
      canonicalJson(deep);
    } catch (e) {
      error = e;
    }
    expect(permanentReason(error)).toBe('malformed_message');
  });

  it('leaves every other error of ours transient (the host retries it)', () => {
    for (const e of [
      new StorageUnavailableError('x'),
      new CertificateUnavailableError('x'),
      new EventInFlightError('x'),
      new KeySetUnreachableError('http://127.0.0.1:9/keys', { cause: new TypeError('fetch failed') }),
    ])
      expect({ code: e.code, reason: permanentReason(e) }).toEqual({ code: e.code, reason: undefined });
  });

  it('takes the builtin errors our code throws on input it cannot handle as unprocessable, a TypeError with a cause (a failed fetch) as transient', () => {
    expect(permanentReason(new SyntaxError('x'))).toBe('unprocessable');
    expect(permanentReason(new URIError('x'))).toBe('unprocessable');
    expect(permanentReason(new RangeError('x'))).toBe('unprocessable');
    expect(permanentReason(new TypeError('x'))).toBe('unprocessable');
    expect(permanentReason(new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') }))).toBeUndefined();
    expect(permanentReason(new Error('x'))).toBeUndefined();
    expect(permanentReason('x')).toBeUndefined();
    expect(permanentReason(undefined)).toBeUndefined();
  });
});

describe('DEAD_LETTER_REASONS', () => {
  it("are exactly the reasons docs/events.md's table explains, in its order", () => {
    const doc = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');
    const after = doc.slice(doc.indexOf("A dead letter's `reason` is one of these")).split('\n');
    const table = after.slice(after.findIndex((line) => line.startsWith('|')));
    const end = table.findIndex((line) => !line.startsWith('|'));
    const rows = table.slice(2, end === -1 ? undefined : end); // after the header and its rule
    const documented = rows.map((row) => /^\| `([a-z_]+)` \|/.exec(row)?.[1]);
    expect(documented).toEqual([...DEAD_LETTER_REASONS]);
  });
});
