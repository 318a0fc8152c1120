import { describe, expect, it } from 'vitest';
import { thrown } from '../helpers/thrown.js';
import { BadRequestError } from '../../shared/errors.js';
import { checkDeclaredLength, MAX_JSON_DEPTH, parseNotificationBody } from '../../shared/receive/parse-notification-body.js';
import { changeNotification, lifecycleNotification } from '../helpers/notifications.js';

const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const JSON_TYPE = 'application/json; charset=utf-8';

const refusal = (fn: () => unknown) => thrown(BadRequestError, fn);

describe('parseNotificationBody', () => {
  it('returns the items and tokens of a well-formed collection, unknown fields kept', () => {
    const item = { ...changeNotification(), futureField: { a: 1 } };
    const parsed = parseNotificationBody(bytes({ value: [item, lifecycleNotification()], validationTokens: ['a.b.c'] }), JSON_TYPE, 1e6);
    expect(parsed.value).toHaveLength(2);
    expect(parsed.value[0]).toEqual(item);
    expect(parsed.validationTokens).toEqual(['a.b.c']);
  });

  it('refuses a body that is not JSON with 400, without quoting it', () => {
    const e = refusal(() => parseNotificationBody(bytes('{"value": [secret-content'), JSON_TYPE, 1e6));
    expect(e.status).toBe(400);
    expect(e.code).toBe('ERR_INVALID_JSON');
    expect(e.message).not.toContain('secret-content');
  });

  it('refuses JSON of another shape with 400 naming what is wrong', () => {
    expect(refusal(() => parseNotificationBody(bytes({ items: [] }), JSON_TYPE, 1e6)).message).toMatch(/value: is required/);
    expect(refusal(() => parseNotificationBody(bytes({ value: [] }), JSON_TYPE, 1e6)).message).toMatch(/at least one/);
    expect(refusal(() => parseNotificationBody(bytes([1, 2]), JSON_TYPE, 1e6)).code).toBe('ERR_INVALID_NOTIFICATION');
    const missing = refusal(() => parseNotificationBody(bytes({ value: [changeNotification(), changeNotification({ subscriptionId: undefined, resource: 42 })] }), JSON_TYPE, 1e6));
    expect(missing.status).toBe(400);
    expect(missing.message).toContain('value[1].subscriptionId: is required');
    expect(missing.message).toContain('value[1].resource');
  });

  it('checks lifecycle items against the lifecycle shape', () => {
    const e = refusal(() => parseNotificationBody(bytes({ value: [lifecycleNotification({ tenantId: undefined })] }), JSON_TYPE, 1e6));
    expect(e.message).toContain('value[0].tenantId: is required');
  });

  it('refuses validationTokens that are not strings', () => {
    const e = refusal(() => parseNotificationBody(bytes({ value: [changeNotification()], validationTokens: [5] }), JSON_TYPE, 1e6));
    expect(e.message).toContain('validationTokens[0]');
  });

  it('refuses other media types with 415', () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', null]) {
      const e = refusal(() => parseNotificationBody(bytes({ value: [changeNotification()] }), type, 1e6));
      expect(e.status).toBe(415);
    }
    expect(parseNotificationBody(bytes({ value: [changeNotification()] }), 'Application/JSON', 1e6).value).toHaveLength(1);
  });

  it('refuses a body over the limit with 413, declared or actual', () => {
    const body = bytes({ value: [changeNotification()] });
    expect(refusal(() => parseNotificationBody(body, JSON_TYPE, body.length - 1)).status).toBe(413);
    expect(refusal(() => checkDeclaredLength(5_000_000, 1_000_000)).status).toBe(413);
    expect(() => checkDeclaredLength(null, 1_000_000)).not.toThrow();
  });

  it('refuses JSON nested deeper than it can store with 400, objects or arrays', () => {
    const nested = (depth: number, open: string, close: string) => open.repeat(depth) + '1' + close.repeat(depth);
    const body = (resourceData: string) => {
      const item = JSON.stringify(changeNotification({ resourceData: { deep: 0 } })).replace('{"deep":0}', resourceData);
      return bytes(`{"value":[${item}]}`);
    };
    // JSON.parse takes any depth, but JSON.stringify (queueing) overflows the stack on this one.
    const tooDeep = nested(10_000, '{"a":', '}');
    expect(() => JSON.stringify(JSON.parse(tooDeep))).toThrow(RangeError);
    for (const resourceData of [tooDeep, `{"a":${nested(10_000, '[', ']')}}`, nested(MAX_JSON_DEPTH - 2, '{"a":', '}')]) {
      const e = refusal(() => parseNotificationBody(body(resourceData), JSON_TYPE, 1e6));
      expect(e.status).toBe(400);
      expect(e.code).toBe('ERR_JSON_TOO_DEEP');
      expect(e.message).toContain(String(MAX_JSON_DEPTH));
    }
    // The body, `value` and the item are three levels; resourceData may fill the rest.
    const deepest = nested(MAX_JSON_DEPTH - 3, '{"a":', '}');
    expect(parseNotificationBody(body(deepest), JSON_TYPE, 1e6).value).toHaveLength(1);
  });
});
