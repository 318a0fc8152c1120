import { metrics as otel, type Attributes } from '@opentelemetry/api';
import { RELAY_INSTRUMENTS } from './instruments.js';
import type { Metrics } from './metrics.js';

type Instrument = (typeof RELAY_INSTRUMENTS)[number];
type GaugeInstrument = Extract<Instrument, { type: 'gauge' }>;
export type GaugeName = GaugeInstrument['name'];

/** A label (`notifications.202`) as the instrument's attributes (`{ endpoint: 'notifications', status: '202' }`). */
function attributesOf(i: Instrument, label: string | undefined): Attributes {
  if (!label || i.attributes.length === 0) return {};
  const parts = i.attributes.length === 1 ? [label] : label.split('.');
  return Object.fromEntries(i.attributes.map((a, n) => [a, parts[n] ?? '']));
}

/**
 * The measures as OpenTelemetry instruments (shared/metrics/instruments.ts names them: `relay.routed{kind}`,
 * `relay.answers{endpoint,status}`, `relay.delay_ms{kind}`, …), read from the global meter provider: Azure
 * Monitor's when APPLICATIONINSIGHTS_CONNECTION_STRING is set, a no-op otherwise.
 */
export function createOtelMetrics(meterName = 'teams-change-relay'): Metrics {
  const meter = otel.getMeter(meterName);
  const counters = new Map<string, { i: Instrument; add: (by: number, a: Attributes) => void }>();
  const histograms = new Map<string, { i: Instrument; record: (v: number, a: Attributes) => void }>();
  for (const i of RELAY_INSTRUMENTS) {
    const short = i.name.slice('relay.'.length);
    const options = { description: i.description, ...('unit' in i ? { unit: i.unit } : {}) };
    if (i.type === 'counter') {
      const c = meter.createCounter(i.name, options);
      counters.set(short, { i, add: (by, a) => c.add(by, a) });
    } else if (i.type === 'histogram') {
      const h = meter.createHistogram(i.name, options);
      histograms.set(short, { i, record: (v, a) => h.record(v, a) });
    }
  }
  return {
    add: (counter, label, by = 1) => {
      const c = counters.get(counter);
      c?.add(by, attributesOf(c.i, label));
    },
    observe: (histogram, label, valueMs) => {
      const h = histograms.get(histogram);
      h?.record(Math.max(0, valueMs), attributesOf(h.i, label));
    },
    routedAt: () => undefined,
  };
}

/** The gauges the checkHealth timer sets each run (queue ages, dead letters waiting, each self-check, the verdict, …). */
export interface Gauges {
  set(name: GaugeName, value: number, attributes?: Readonly<Record<string, string>>): void;
}

/** The gauges as OpenTelemetry synchronous gauges on the global meter provider (a no-op without Application Insights). */
export function createOtelGauges(meterName = 'teams-change-relay'): Gauges {
  const meter = otel.getMeter(meterName);
  const gauges = new Map(
    RELAY_INSTRUMENTS.filter((i): i is GaugeInstrument => i.type === 'gauge').map(
      (i) => [i.name, meter.createGauge(i.name, { description: i.description, ...('unit' in i ? { unit: i.unit } : {}) })] as const,
    ),
  );
  return { set: (name, value, attributes = {}) => gauges.get(name)?.record(value, attributes) };
}

export const noGauges: Gauges = { set: () => undefined };
