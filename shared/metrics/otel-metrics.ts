import { metrics as otel } from '@opentelemetry/api';
import { METRIC_NAMES, type MetricName, type Metrics } from './metrics.js';

/** The label each counter carries as an OpenTelemetry attribute. */
const LABELS: Partial<Record<MetricName, string>> = { rejected: 'reason', routed: 'kind', dead_letters: 'reason' };

/**
 * The same counters as OpenTelemetry counters (`relay.accepted`, `relay.rejected{reason}`,
 * `relay.routed{kind}`, `relay.duplicates`, `relay.dead_letters{reason}`, `relay.backfilled`), read from the
 * global meter provider: Azure Monitor's when APPLICATIONINSIGHTS_CONNECTION_STRING is set, a no-op otherwise.
 */
export function createOtelMetrics(meterName = 'teams-change-relay'): Metrics {
  const meter = otel.getMeter(meterName);
  const counters = new Map(METRIC_NAMES.map((name) => [name, meter.createCounter(`relay.${name}`)] as const));
  return {
    add: (counter, label, by = 1) => {
      const attribute = LABELS[counter];
      counters.get(counter)?.add(by, attribute && label ? { [attribute]: label } : {});
    },
    routedAt: () => undefined,
  };
}
