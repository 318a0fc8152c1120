import { describe, expect, it } from 'vitest';
import { DEFAULT_DELIVERY_OPTIONS } from '../../dev/graph-simulator/delivery.js';
import { DEFAULT_SLOW_ENDPOINT_RULES, EndpointHealth } from '../../dev/graph-simulator/slow-endpoint.js';

const rules = { ...DEFAULT_SLOW_ENDPOINT_RULES, enabled: true };
const MINUTE = 60_000;

/** An endpoint that answered `total` POSTs of one notification each, `slow` of them in 2,901 ms, the rest in 2,899 ms. */
function endpoint(total: number, slow: number, at = 0): EndpointHealth {
  const health = new EndpointHealth();
  for (let i = 0; i < total; i++) health.record(at, i < slow ? 2901 : 2899, false, rules);
  return health;
}

describe("Graph's slow-endpoint rule (change-notifications-delivery-webhooks, ms.date 03/23/2023)", () => {
  it('publishes with a 3-second client timeout and counts an answer over 2,900 ms as slow', () => {
    expect(DEFAULT_DELIVERY_OPTIONS.requestTimeoutMs).toBe(3000);
    const health = new EndpointHealth();
    health.record(0, 2899, false, rules, 100);
    expect(health.slowShare(0, rules)).toBe(0);
    health.record(0, 2900, false, rules);
    expect(health.slowShare(0, rules)).toBe(0);
    health.record(0, 2901, false, rules);
    expect(health.slowShare(0, rules)).toBeCloseTo(1 / 3);
  });

  it('delivers under 10 % slow answers, delays from 10 %, drops from 15 %', () => {
    expect(endpoint(100, 9).verdict(0, rules)).toBe('deliver');
    expect(endpoint(100, 10).verdict(0, rules)).toBe('delay');
    expect(endpoint(100, 14).verdict(0, rules)).toBe('delay');
    expect(endpoint(100, 15).verdict(0, rules)).toBe('drop');
  });

  it('gives no verdict before the endpoint received 100 notifications, counted in the POSTs that carried them', () => {
    expect(endpoint(99, 99).slowShare(0, rules)).toBeUndefined();
    expect(endpoint(99, 99).verdict(0, rules)).toBe('deliver');
    expect(endpoint(100, 100).verdict(0, rules)).toBe('drop');
    const batches = new EndpointHealth();
    for (let i = 0; i < 9; i++) batches.record(0, 10, true, rules, 11); // timeouts count as slow
    expect(batches.verdict(0, rules)).toBe('deliver'); // 99 notifications
    batches.record(0, 10, true, rules, 1);
    expect(batches.verdict(0, rules)).toBe('drop');
  });

  it('flushes the answers every 10 minutes, and keeps dropping for ten minutes once it started', () => {
    const health = endpoint(100, 20);
    expect(health.verdict(0, rules)).toBe('drop');
    expect(health.verdict(9 * MINUTE, rules)).toBe('drop');
    expect(health.slowShare(10 * MINUTE, rules)).toBeUndefined(); // a new window: nothing judged yet
    expect(health.verdict(10 * MINUTE, rules)).toBe('deliver');
    const late = endpoint(100, 9);
    for (let i = 0; i < 50; i++) late.record(9 * MINUTE, 2901, false, rules); // 59 of 150 in the same window
    expect(late.verdict(9 * MINUTE, rules)).toBe('drop');
  });

  it('is off unless enabled', () => {
    expect(endpoint(100, 100).verdict(0, DEFAULT_SLOW_ENDPOINT_RULES)).toBe('deliver');
  });
});
