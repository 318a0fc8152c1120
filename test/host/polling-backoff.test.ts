import { describe, expect, it } from 'vitest';
import { PollingBackoff } from '../../dev/local-host/polling-backoff.js';

describe("PollingBackoff (the Storage extension's randomized exponential back-off)", () => {
  it('starts at 100 ms, then adds 100 ms × 2^(k-1) × a factor in [0.8, 1.2) until maxPollingInterval, then stays there', () => {
    const middle = new PollingBackoff(2000, () => 0.5);
    const waits = Array.from({ length: 8 }, () => middle.next(false));
    expect(waits).toEqual([100, 200, 300, 500, 900, 1700, 2000, 2000]);
    const low = new PollingBackoff(60_000, () => 0);
    expect([low.next(false), low.next(false), low.next(false)]).toEqual([100, 180, 260]);
    const high = new PollingBackoff(60_000, () => 0.999_999);
    expect(high.next(false)).toBe(100);
    expect(high.next(false)).toBeCloseTo(220, 3);
  });

  it('waits exactly maxPollingInterval once reached: no jitter on an idle queue', () => {
    const b = new PollingBackoff(60_000, Math.random);
    let wait = 0;
    for (let i = 0; i < 30; i++) wait = b.next(false);
    expect(wait).toBe(60_000);
    expect(b.next(false)).toBe(60_000);
  });

  it('starts again from 100 ms after a poll that found messages', () => {
    const b = new PollingBackoff(2000, () => 0.5);
    for (let i = 0; i < 10; i++) b.next(false);
    expect(b.next(true)).toBe(100);
    expect(b.next(false)).toBe(200);
  });

  it('refuses a maximum under 100 ms', () => {
    expect(() => new PollingBackoff(50)).toThrow(RangeError);
  });
});
