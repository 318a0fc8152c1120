import { addBuckets, emptyBuckets, percentilesOf, type BucketCounts } from '../metrics/histogram.js';
import type { HourTotals, MetricTotals } from '../metrics/metrics.js';
import type { HourlySeries, Percentiles, StatusSnapshot } from './status-snapshot.js';

const HOUR_MS = 3_600_000;

/** The `<label>` of each key `<name>.<label>` of `record`, with its value. */
function labelled<T>(record: Readonly<Record<string, T>>, name: string): [string, T][] {
  return Object.entries(record).flatMap(([k, v]): [string, T][] => (k.startsWith(`${name}.`) ? [[k.slice(name.length + 1), v]] : []));
}

/** The end-to-end delay's percentiles per kind, from the summed `delay_ms.<kind>` histograms. */
export function delayByKind(totals: Pick<MetricTotals, 'histograms'>): Record<string, Percentiles> {
  const out: Record<string, Percentiles> = {};
  for (const [kind, buckets] of labelled(totals.histograms, 'delay_ms')) {
    const p = percentilesOf(buckets);
    if (p) out[kind] = p;
  }
  return out;
}

/** The receive endpoints' answers: `answers.<endpoint>.<status>`, `slow_answers.<endpoint>`, `answer_ms.<endpoint>`. */
export function answersSummary(totals: Pick<MetricTotals, 'counters' | 'histograms'>): StatusSnapshot['answers'] {
  const answers = labelled(totals.counters, 'answers');
  const sum = (entries: [string, number][]) => entries.reduce((a, [, n]) => a + n, 0);
  const times = labelled(totals.histograms, 'answer_ms').reduce<BucketCounts>((into, [, b]) => addBuckets(into, b), emptyBuckets());
  return {
    count: sum(answers),
    slow: sum(labelled(totals.counters, 'slow_answers')),
    serverErrors: sum(answers.filter(([label]) => /\.5\d\d$/.test(label))),
    ms: percentilesOf(times) ?? null,
  };
}

/**
 * The `hours` hours up to `now`'s, oldest first, and per kind that routed anything in them: events routed,
 * and the delay's p50 and p95, in each hour (null: nothing routed live that hour).
 */
export function hourlySeries(totals: Pick<MetricTotals, 'hours'>, now: Date, hours = 24): HourlySeries {
  const last = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const starts = Array.from({ length: hours }, (_, i) => new Date(last - (hours - 1 - i) * HOUR_MS).toISOString());
  const byStart = new Map<string, HourTotals>(totals.hours.map((h) => [h.hour, h]));
  const kinds = new Set<string>();
  for (const h of totals.hours) {
    if (!starts.includes(h.hour)) continue;
    for (const [kind] of [...labelled(h.counters, 'routed'), ...labelled(h.histograms, 'delay_ms')]) kinds.add(kind);
  }
  const series: Record<string, { routed: number[]; p50: (number | null)[]; p95: (number | null)[] }> = {};
  for (const kind of [...kinds].sort()) {
    const routed = starts.map((s) => byStart.get(s)?.counters[`routed.${kind}`] ?? 0);
    const delay = starts.map((s) => percentilesOf(byStart.get(s)?.histograms[`delay_ms.${kind}`] ?? []));
    series[kind] = { routed, p50: delay.map((p) => p?.p50 ?? null), p95: delay.map((p) => p?.p95 ?? null) };
  }
  return { hours: starts, kinds: series };
}
