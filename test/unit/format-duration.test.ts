import { describe, expect, it } from 'vitest';
import { formatMilliseconds } from '../../shared/status/format-duration.js';

describe('a duration as a person reads it', () => {
  it.each([
    [0, '0 ms'],
    [850, '850 ms'],
    [999.7, '1 s'],
    [2_400, '2.4 s'],
    [3_000, '3 s'],
    [12_345, '12 s'],
    [59_970, '1 min'],
    [90_000, '1.5 min'],
    [180_000, '3 min'],
    [5_400_000, '1.5 h'],
    [30 * 3_600_000, '1.3 d'],
    [40 * 86_400_000, '40 d'],
    [-5, '0 ms'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatMilliseconds(ms)).toBe(text);
  });
});
