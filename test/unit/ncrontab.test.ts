import { describe, expect, it } from 'vitest';
import { parseNcrontab } from '../../tools/local-host/ncrontab.js';

const at = (iso: string) => new Date(iso);
const next = (expr: string, after: string) => parseNcrontab(expr).next(at(after)).toISOString();

describe('parseNcrontab', () => {
  it('reads six fields, seconds first', () => {
    expect(next('*/15 * * * * *', '2026-01-01T00:00:07Z')).toBe('2026-01-01T00:00:15.000Z');
    expect(next('0 */5 * * * *', '2026-01-01T00:03:00Z')).toBe('2026-01-01T00:05:00.000Z');
    expect(next('0 30 9 * * *', '2026-01-01T10:00:00Z')).toBe('2026-01-02T09:30:00.000Z');
  });

  it('is strictly after the given time', () => {
    expect(next('0 0 * * * *', '2026-01-01T05:00:00Z')).toBe('2026-01-01T06:00:00.000Z');
  });

  it('accepts five fields (no seconds)', () => {
    expect(next('15 * * * *', '2026-01-01T00:20:00Z')).toBe('2026-01-01T01:15:00.000Z');
  });

  it('reads ranges, lists, steps, names, and 7 as Sunday', () => {
    expect(next('0 0 9-17/4 * * *', '2026-01-01T10:00:00Z')).toBe('2026-01-01T13:00:00.000Z');
    expect(next('0 0 0 * * mon', '2026-01-01T00:00:00Z')).toBe('2026-01-05T00:00:00.000Z');
    expect(next('0 0 0 * * 7', '2026-01-01T00:00:00Z')).toBe('2026-01-04T00:00:00.000Z');
    expect(next('0 0 0 1 jan,jul *', '2026-02-01T00:00:00Z')).toBe('2026-07-01T00:00:00.000Z');
    expect(next('0 0 12 29 2 *', '2026-03-01T00:00:00Z')).toBe('2028-02-29T12:00:00.000Z');
  });

  it('refuses malformed expressions with a message', () => {
    expect(() => parseNcrontab('* * *')).toThrow(/6 fields/);
    expect(() => parseNcrontab('61 * * * * *')).toThrow(/second/);
    expect(() => parseNcrontab('0 0 0 * * funday')).toThrow(/day-of-week/);
    expect(() => parseNcrontab('*/0 * * * * *')).toThrow(/step/);
  });
});
