import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, MetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { RELAY_INSTRUMENTS } from '../../shared/metrics/instruments.js';
import { createOtelGauges, createOtelMetrics } from '../../shared/metrics/otel-metrics.js';

/** A reader that collects on demand: what Azure Monitor's exporter would be handed. */
class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
  }
  protected onForceFlush = async () => undefined;
  protected onShutdown = async () => undefined;
}

async function collected(reader: CollectingReader): Promise<Map<string, { type: string; points: DataPoint<unknown>[] }>> {
  const { resourceMetrics } = await reader.collect();
  const out = new Map<string, { type: string; points: DataPoint<unknown>[] }>();
  for (const scope of resourceMetrics.scopeMetrics) for (const m of scope.metrics) out.set(m.descriptor.name, { type: String(m.dataPointType), points: m.dataPoints });
  return out;
}

afterEach(() => metrics.disable());

describe('the OpenTelemetry instruments the alert rules query', () => {
  it('records counters, histograms and gauges under the names and attributes RELAY_INSTRUMENTS lists', async () => {
    const reader = new CollectingReader();
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    const m = createOtelMetrics();
    const g = createOtelGauges();
    m.add('answers', 'notifications.503');
    m.add('answers', 'notifications.202', 2);
    m.add('slow_answers', 'lifecycle');
    m.add('rejected', 'validation_token_missing');
    m.add('accepted', undefined, 3);
    m.observe('delay_ms', 'chatMessage', 1_250);
    m.observe('answer_ms', 'notifications', 40);
    g.set('relay.queue.oldest_message_age_seconds', 75, { queue: 'graph-notifications', role: 'incoming' });
    g.set('relay.health.check', 2, { check: 'subscriptions' });
    g.set('relay.health.verdict', 2);

    const seen = await collected(reader);
    const answers = seen.get('relay.answers')?.points ?? [];
    expect(answers.map((p) => [p.attributes, p.value])).toEqual(
      expect.arrayContaining([
        [{ endpoint: 'notifications', status: '503' }, 1],
        [{ endpoint: 'notifications', status: '202' }, 2],
      ]),
    );
    expect(seen.get('relay.slow_answers')?.points[0]?.attributes).toEqual({ endpoint: 'lifecycle' });
    expect(seen.get('relay.rejected')?.points[0]?.attributes).toEqual({ reason: 'validation_token_missing' });
    expect(seen.get('relay.accepted')?.points[0]?.value).toBe(3);
    expect(seen.get('relay.delay_ms')?.points[0]).toMatchObject({ attributes: { kind: 'chatMessage' }, value: { count: 1, sum: 1_250 } });
    expect(seen.get('relay.answer_ms')?.points[0]?.attributes).toEqual({ endpoint: 'notifications' });
    expect(seen.get('relay.queue.oldest_message_age_seconds')?.points[0]).toMatchObject({ attributes: { queue: 'graph-notifications', role: 'incoming' }, value: 75 });
    expect(seen.get('relay.health.check')?.points[0]).toMatchObject({ attributes: { check: 'subscriptions' }, value: 2 });
    expect(seen.get('relay.health.verdict')?.points[0]?.value).toBe(2);
    // Every name recorded is listed, with exactly the attributes listed for it.
    for (const [name, { points }] of seen) {
      const listed = RELAY_INSTRUMENTS.find((i) => i.name === name);
      expect(listed, name).toBeDefined();
      for (const p of points) expect(Object.keys(p.attributes).sort()).toEqual([...(listed?.attributes ?? [])].sort());
    }
  });
});
