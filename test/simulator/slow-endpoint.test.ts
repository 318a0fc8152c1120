import { describe, expect, it } from 'vitest';
import { DEFAULT_SLOW_ENDPOINT_RULES, EndpointHealth } from '../../tools/graph-simulator/slow-endpoint.js';

const rules = { ...DEFAULT_SLOW_ENDPOINT_RULES, enabled: true };
const MINUTE = 60_000;

/** An endpoint that answered `slow` of `total` answers (3 s and less is not slow; a timeout is). */
function endpoint(total: number, slow: number, at = 0): EndpointHealth {
  const health = new EndpointHealth();
  for (let i = 0; i < total; i++) health.record(at, i < slow ? 3001 : 3000, false, rules);
  return health;
}

describe("Graph's slow-endpoint rule", () => {
  it('delivers at 10 % slow answers or less, delays past 10 %, drops past 15 %', () => {
    expect(endpoint(100, 10).verdict(0, rules)).toBe('deliver');
    expect(endpoint(100, 11).verdict(0, rules)).toBe('delay');
    expect(endpoint(100, 15).verdict(0, rules)).toBe('delay');
    expect(endpoint(100, 16).verdict(0, rules)).toBe('drop');
  });

  it('counts a timeout as slow, and judges nothing before the window holds enough answers', () => {
    const health = new EndpointHealth();
    for (let i = 0; i < 9; i++) health.record(0, 10, true, rules);
    expect(health.verdict(0, rules)).toBe('deliver');
    health.record(0, 10, true, rules);
    expect(health.verdict(0, rules)).toBe('drop');
  });

  it('keeps dropping for ten minutes once it started, and forgets answers older than the window', () => {
    const health = endpoint(10, 2);
    expect(health.verdict(0, rules)).toBe('drop');
    for (let i = 0; i < 90; i++) health.record(MINUTE, 10, false, rules); // now 2 % slow
    expect(health.verdict(9 * MINUTE, rules)).toBe('drop');
    expect(health.verdict(10 * MINUTE, rules)).toBe('deliver');
    expect(health.slowShare(10 * MINUTE + 1, rules)).toBe(0); // the slow ones left the window
  });

  it('is off unless enabled', () => {
    expect(endpoint(10, 10).verdict(0, DEFAULT_SLOW_ENDPOINT_RULES)).toBe('deliver');
  });
});
