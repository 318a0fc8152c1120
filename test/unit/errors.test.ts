import { RestError } from '@azure/core-rest-pipeline';
import { RestError as TablesRestError } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { KeySetUnreachableError } from '../../shared/receive/remote-key-set.js';
import { CertificateUnavailableError, InvalidDefinitionError, RelayError, restErrorCode, restStatus } from '../../shared/errors.js';
import { HydrationFailedError, UnknownSubscriptionError } from '../../shared/route/resource-hydrator.js';
import { PermanentFailure } from '../../shared/route/dead-letter-reason.js';
import { permanentReason } from '../../shared/route/notification-processor.js';
import { EventInFlightError } from '../../shared/route/routed-event-log.js';
import { UnsupportedResourceError } from '../../shared/route/teams-event.js';
import { SubscriptionRepairError } from '../../shared/subscriptions/lifecycle-processor.js';

describe('one error model', () => {
  it('every error the domain throws is a RelayError with a stable code and its own name', () => {
    const cases: [RelayError, string][] = [
      [new PermanentFailure('no_route', 'x'), 'ERR_PERMANENT_FAILURE'],
      [new EventInFlightError('x'), 'ERR_EVENT_IN_FLIGHT'],
      [new UnsupportedResourceError('x'), 'ERR_UNSUPPORTED_RESOURCE'],
      [new HydrationFailedError('x'), 'ERR_HYDRATION_FAILED'],
      [new UnknownSubscriptionError('x'), 'ERR_UNKNOWN_SUBSCRIPTION'],
      [new SubscriptionRepairError('x'), 'ERR_SUBSCRIPTION_REPAIR_FAILED'],
      [new InvalidDefinitionError('x'), 'ERR_INVALID_DEFINITION'],
      [new CertificateUnavailableError('x'), 'ERR_CERTIFICATE_UNAVAILABLE'],
      [new KeySetUnreachableError('http://127.0.0.1:9/keys', { cause: new TypeError('fetch failed') }), 'ERR_JWKS_UNREACHABLE'],
    ];
    for (const [e, code] of cases) {
      expect(e).toBeInstanceOf(RelayError);
      expect(e.code).toBe(code);
      expect(e.name).toBe(e.constructor.name);
    }
  });

  it('the dead-letter reasons stay as they were', () => {
    expect(permanentReason(new PermanentFailure('claim_check_missing', 'x'))).toBe('claim_check_missing');
    expect(permanentReason(new UnsupportedResourceError('x'))).toBe('unsupported_resource');
    expect(permanentReason(new HydrationFailedError('x'))).toBe('hydration_failed');
    // Transient: the host retries these.
    expect(permanentReason(new SubscriptionRepairError('x'))).toBeUndefined();
    expect(permanentReason(new CertificateUnavailableError('x'))).toBeUndefined();
    expect(permanentReason(new UnknownSubscriptionError('x'))).toBeUndefined();
  });
});

describe('restStatus / restErrorCode', () => {
  it("read the status and service code of the Azure SDK's RestError, whichever package threw it", () => {
    const e = new RestError('The specified queue does not exist.', { statusCode: 404, code: 'QueueNotFound' });
    expect(restStatus(e)).toBe(404);
    expect(restErrorCode(e)).toBe('QueueNotFound');
    expect(restStatus(new TablesRestError('Conflict', { statusCode: 409 }))).toBe(409);
    expect(restStatus(new RestError('socket hang up', { code: 'ECONNRESET' }))).toBeUndefined();
  });

  it('say nothing of other errors, even ones with a statusCode property', () => {
    expect(restStatus(Object.assign(new Error('x'), { statusCode: 404 }))).toBeUndefined();
    expect(restStatus({ statusCode: 404 })).toBeUndefined();
    expect(restStatus(undefined)).toBeUndefined();
    expect(restErrorCode(new Error('x'))).toBeUndefined();
  });
});
