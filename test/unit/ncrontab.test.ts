import { describe, expect, it } from 'vitest';
import { parseNcrontab } from '../../dev/local-host/ncrontab.js';

const at = (iso: string) => new Date(iso);
const next = (expr: string, after: string) => parseNcrontab(expr).next(at(after))?.toISOString();

describe('parseNcrontab', () => {
  it('reads six fields, seconds first', () => {
    expect(next('*/15 * * * * *', '2026-01-01T00:00:07Z')).toBe('2026-01-01T00:00:15.000Z');
    expect(next('0 */5 * * * *', '2026-01-01T00:03:00Z')).toBe('2026-01-01T00:05:00.000Z');
    expect(next('0 30 9 * * *', '2026-01-01T10:00:00Z')).toBe('2026-01-02T09:30:00.000Z');
  });

  it('is strictly after the given time, at whole seconds', () => {
    expect(next('0 0 * * * *', '2026-01-01T05:00:00Z')).toBe('2026-01-01T06:00:00.000Z');
    expect(next('* * * * * *', '2026-01-01T05:00:00.900Z')).toBe('2026-01-01T05:00:01.000Z');
  });

  it('accepts five fields (no seconds: second 0)', () => {
    expect(next('15 * * * *', '2026-01-01T00:20:00Z')).toBe('2026-01-01T01:15:00.000Z');
  });

  it('reads ranges, lists, steps, a value with a step, and a range given backwards', () => {
    expect(next('0 0 9-17/4 * * *', '2026-01-01T10:00:00Z')).toBe('2026-01-01T13:00:00.000Z');
    expect(next('0 0 0 1 jan,jul *', '2026-02-01T00:00:00Z')).toBe('2026-07-01T00:00:00.000Z');
    expect(next('0 0 12 29 2 *', '2026-03-01T00:00:00Z')).toBe('2028-02-29T12:00:00.000Z');
    expect(next('0 50/5 * * * *', '2026-01-01T00:51:00Z')).toBe('2026-01-01T00:55:00.000Z');
    expect(next('0 50/5 * * * *', '2026-01-01T00:56:00Z')).toBe('2026-01-01T01:50:00.000Z');
    expect(next('0 0 17-9 * * *', '2026-01-01T10:00:00Z')).toBe(next('0 0 9-17 * * *', '2026-01-01T10:00:00Z'));
  });

  it('reads day-of-week 0-6 with Sunday 0, and full, short and prefix names in any case', () => {
    // 2026-01-01 is a Thursday.
    expect(next('0 0 0 * * 0', '2026-01-01T00:00:00Z')).toBe('2026-01-04T00:00:00.000Z');
    expect(next('0 0 0 * * 6', '2026-01-01T00:00:00Z')).toBe('2026-01-03T00:00:00.000Z');
    for (const monday of ['1', 'mon', 'Mon', 'MONDAY', 'Monday', 'mo', 'M']) {
      expect(next(`0 0 0 * * ${monday}`, '2026-01-01T00:00:00Z')).toBe('2026-01-05T00:00:00.000Z');
    }
    expect(next('0 0 0 * * Tuesday-Thursday', '2026-01-02T00:00:00Z')).toBe('2026-01-06T00:00:00.000Z');
    expect(next('0 0 0 * * sat,sun', '2026-01-01T00:00:00Z')).toBe('2026-01-03T00:00:00.000Z');
    expect(next('0 0 0 1 December *', '2026-01-01T00:00:00Z')).toBe('2026-12-01T00:00:00.000Z');
  });

  it('needs day and day-of-week to match together', () => {
    // The next 13th that is a Friday after 2026-01-01 is in February 2026.
    expect(next('0 0 0 13 * Fri', '2026-01-01T00:00:00Z')).toBe('2026-02-13T00:00:00.000Z');
  });

  it('counts a step below 1 as 1, as the library does', () => {
    expect(next('*/0 * * * * *', '2026-01-01T00:00:07Z')).toBe('2026-01-01T00:00:08.000Z');
  });

  it('accepts a schedule that never occurs and gives no next occurrence', () => {
    expect(parseNcrontab('0 0 0 30 2 *').next(at('2026-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('refuses 7 as a day of the week, and other malformed expressions, naming the field', () => {
    expect(() => parseNcrontab('0 0 0 * * 7')).toThrow(/day-of-week field.*above the maximum 6/);
    expect(() => parseNcrontab('0 0 0 * * 5-7')).toThrow(/day-of-week/);
    expect(() => parseNcrontab('* * *')).toThrow(/6 fields/);
    expect(() => parseNcrontab('0 0 0 * * * *')).toThrow(/6 fields/);
    expect(() => parseNcrontab('61 * * * * *')).toThrow(/second field/);
    expect(() => parseNcrontab('0 0 24 * * *')).toThrow(/hour field/);
    expect(() => parseNcrontab('0 0 0 0 * *')).toThrow(/day field.*below the minimum 1/);
    expect(() => parseNcrontab('0 0 0 * 13 *')).toThrow(/month field/);
    expect(() => parseNcrontab('0 0 0 * * funday')).toThrow(/not a known name/);
    expect(() => parseNcrontab('0 0 0 * * Mondays')).toThrow(/not a known name/);
    expect(() => parseNcrontab('0 mon * * * *')).toThrow(/minute field/);
    expect(() => parseNcrontab('*/x * * * * *')).toThrow(/step/);
    expect(() => parseNcrontab('1, * * * * *')).toThrow(/empty/);
    expect(() => parseNcrontab('5a * * * * *')).toThrow(/second field/);
    expect(() => parseNcrontab('-1 * * * * *')).toThrow(/second field/);
  });

  it('splits on spaces only, as the library does', () => {
    expect(() => parseNcrontab('0\t0 0 * * *')).toThrow(/minute field/);
  });

  it('tells when only the seconds field restricts the schedule', () => {
    expect(parseNcrontab('*/10 * * * * *').onlySecondsRestricted).toBe(true);
    expect(parseNcrontab('0 */5 * * * *').onlySecondsRestricted).toBe(false);
    expect(parseNcrontab('* * * * *').onlySecondsRestricted).toBe(false);
  });
});
