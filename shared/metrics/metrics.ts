/**
 * The relay's measures: counters (accepted, rejected by reason, routed by kind, duplicates, dead letters by
 * reason, backfilled, receive answers by endpoint and status, slow answers by endpoint) and histograms in
 * milliseconds (the end-to-end delay of live events by kind, the receive answer time by endpoint). A measure's
 * key is `<name>` or `<name>.<label>` (`rejected.client_state_mismatch`, `routed.chatMessage`,
 * `answers.notifications.202`, `delay_ms.chatMessage`); a label of two attributes joins them with a dot.
 * Recording must never fail nor wait: sinks buffer and write later.
 */
export interface Metrics {
  add(counter: MetricName, label?: string, by?: number): void;
  /** One value of a histogram, in milliseconds. */
  observe(histogram: HistogramName, label: string, valueMs: number): void;
  /** The last time an event of this kind was routed. */
  routedAt(kind: string, at: Date): void;
}

export const METRIC_NAMES = ['accepted', 'rejected', 'routed', 'duplicates', 'dead_letters', 'backfilled', 'answers', 'slow_answers', 'tokens_missing'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export const HISTOGRAM_NAMES = ['delay_ms', 'answer_ms'] as const;
export type HistogramName = (typeof HISTOGRAM_NAMES)[number];

/** One hour's measures, every process's summed. */
export interface HourTotals {
  /** The hour's start, ISO 8601. */
  readonly hour: string;
  readonly counters: Readonly<Record<string, number>>;
  /** Bucket counts by `<histogram>.<label>` (histogram.ts). */
  readonly histograms: Readonly<Record<string, readonly number[]>>;
}

/** The measures of a period, by key, the last routed time per kind, and each hour's own. */
export interface MetricTotals {
  readonly counters: Readonly<Record<string, number>>;
  readonly histograms: Readonly<Record<string, readonly number[]>>;
  readonly lastRouted: Readonly<Record<string, string>>;
  /** Oldest first; only hours something was recorded in. */
  readonly hours: readonly HourTotals[];
}

export const counterKey = (counter: MetricName | HistogramName, label?: string) => (label ? `${counter}.${label}` : counter);

/** Sends every measure to each sink. */
export function fanOut(...sinks: readonly Metrics[]): Metrics {
  return {
    add: (counter, label, by) => sinks.forEach((s) => s.add(counter, label, by)),
    observe: (histogram, label, valueMs) => sinks.forEach((s) => s.observe(histogram, label, valueMs)),
    routedAt: (kind, at) => sinks.forEach((s) => s.routedAt(kind, at)),
  };
}

export const noMetrics: Metrics = { add: () => undefined, observe: () => undefined, routedAt: () => undefined };
