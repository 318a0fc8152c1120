/**
 * The relay's counters: accepted, rejected by reason, routed by kind, duplicates, dead letters by reason,
 * backfilled. A counter's name is `<counter>` or `<counter>.<label>` (`rejected.client_state_mismatch`,
 * `routed.chatMessage`, `dead_letters.no_route`). Adding to a counter must never fail nor wait: sinks
 * buffer and write later.
 */
export interface Metrics {
  add(counter: MetricName, label?: string, by?: number): void;
  /** The last time an event of this kind was routed. */
  routedAt(kind: string, at: Date): void;
}

export const METRIC_NAMES = ['accepted', 'rejected', 'routed', 'duplicates', 'dead_letters', 'backfilled'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** The counters of a period, by `<counter>[.<label>]`, and the last routed time per kind. */
export interface MetricTotals {
  readonly counters: Readonly<Record<string, number>>;
  readonly lastRouted: Readonly<Record<string, string>>;
}

export const counterKey = (counter: MetricName, label?: string) => (label ? `${counter}.${label}` : counter);

/** Sends every count to each sink. */
export function fanOut(...sinks: readonly Metrics[]): Metrics {
  return {
    add: (counter, label, by) => sinks.forEach((s) => s.add(counter, label, by)),
    routedAt: (kind, at) => sinks.forEach((s) => s.routedAt(kind, at)),
  };
}

export const noMetrics: Metrics = { add: () => undefined, routedAt: () => undefined };
