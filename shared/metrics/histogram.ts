/**
 * Fixed-bucket histograms of milliseconds, as the metrics table keeps them: one count per bucket, so the
 * histograms of every process and hour add up bucket by bucket and percentiles come from the sum. The
 * bounds run from 10 ms to a day, about three per decade, which keeps a percentile within half a bucket
 * of the truth: enough to tell 800 ms from 2.4 s and 3 minutes from 20.
 */
export const HISTOGRAM_BOUNDS_MS: readonly number[] = [
  10, 25, 50, 100, 250, 500, 750, 1_000, 1_500, 2_000, 2_900, 4_000, 6_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 86_400_000,
];

/** Counts per bucket: index i counts values ≤ HISTOGRAM_BOUNDS_MS[i] (and above the previous bound); the last counts values above every bound. */
export type BucketCounts = number[];

export const emptyBuckets = (): BucketCounts => new Array<number>(HISTOGRAM_BOUNDS_MS.length + 1).fill(0);

/** The bucket a value falls in (a negative value, from clocks a little apart, counts as 0). */
export function bucketOf(valueMs: number): number {
  const v = Math.max(0, valueMs);
  const i = HISTOGRAM_BOUNDS_MS.findIndex((bound) => v <= bound);
  return i === -1 ? HISTOGRAM_BOUNDS_MS.length : i;
}

/** Adds `from` into `into`, bucket by bucket (a shorter or longer array, as a stored one might be, adds what it has). */
export function addBuckets(into: BucketCounts, from: readonly unknown[]): BucketCounts {
  for (let i = 0; i < into.length && i < from.length; i++) {
    const n = from[i];
    if (typeof n === 'number' && Number.isFinite(n) && n > 0) into[i] = (into[i] ?? 0) + n;
  }
  return into;
}

export const countOf = (buckets: readonly number[]) => buckets.reduce((a, b) => a + b, 0);

/**
 * The `q` quantile (0–1) of the values counted, interpolated within its bucket; undefined when nothing was
 * counted. A value in the last bucket (over a day) is reported as the last bound.
 */
export function quantile(buckets: readonly number[], q: number): number | undefined {
  const total = countOf(buckets);
  if (total === 0) return undefined;
  const rank = Math.min(total, Math.max(1, Math.ceil(q * total)));
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i] ?? 0;
    if (n === 0 || seen + n < rank) {
      seen += n;
      continue;
    }
    const lower = i === 0 ? 0 : (HISTOGRAM_BOUNDS_MS[i - 1] ?? 0);
    const upper = HISTOGRAM_BOUNDS_MS[i];
    if (upper === undefined) return lower;
    return Math.round(lower + ((upper - lower) * (rank - seen)) / n);
  }
  return undefined;
}

/** p50, p95 and p99 in milliseconds with the count; undefined when nothing was counted. */
export function percentilesOf(buckets: readonly number[]): { p50: number; p95: number; p99: number; count: number } | undefined {
  const count = countOf(buckets);
  if (count === 0) return undefined;
  return { p50: quantile(buckets, 0.5) ?? 0, p95: quantile(buckets, 0.95) ?? 0, p99: quantile(buckets, 0.99) ?? 0, count };
}
