import { describe, expect, it } from 'vitest';
import { addBuckets, bucketOf, countOf, emptyBuckets, HISTOGRAM_BOUNDS_MS, percentilesOf, quantile } from '../../shared/metrics/histogram.js';

const of = (...values: number[]) => {
  const b = emptyBuckets();
  for (const v of values) b[bucketOf(v)] = (b[bucketOf(v)] ?? 0) + 1;
  return b;
};

describe('fixed-bucket histograms', () => {
  it('puts a value in the first bucket whose bound holds it, negatives in the first, values past a day in the last', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(-5)).toBe(0);
    expect(bucketOf(10)).toBe(0);
    expect(bucketOf(11)).toBe(1);
    expect(bucketOf(2_900)).toBe(HISTOGRAM_BOUNDS_MS.indexOf(2_900));
    expect(bucketOf(2_901)).toBe(HISTOGRAM_BOUNDS_MS.indexOf(2_900) + 1);
    expect(bucketOf(2 * 86_400_000)).toBe(HISTOGRAM_BOUNDS_MS.length);
  });

  it('gives percentiles within the bucket of the true value', () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i + 1) * 10); // 10 ms … 10 s, evenly
    const p = percentilesOf(of(...values));
    expect(p?.count).toBe(1000);
    // True p50 = 5,000 ms (bucket 4,000–6,000), p95 = 9,500 and p99 = 9,900 (bucket 6,000–10,000).
    expect(p?.p50).toBeGreaterThan(4_000);
    expect(p?.p50).toBeLessThanOrEqual(6_000);
    expect(p?.p95).toBeGreaterThan(6_000);
    expect(p?.p95).toBeLessThanOrEqual(10_000);
    expect(p?.p99).toBeGreaterThanOrEqual(p?.p95 ?? Infinity);
    expect(quantile(of(7), 0.5)).toBeLessThanOrEqual(10);
    expect(percentilesOf(emptyBuckets())).toBeUndefined();
  });

  it('adds stored bucket arrays bucket by bucket, ignoring what is not a count', () => {
    const sum = addBuckets(of(100, 100), [0, 0, 0, 2, 'x', -1, null]);
    expect(sum[bucketOf(100)]).toBe(4);
    expect(countOf(sum)).toBe(4);
  });
});
