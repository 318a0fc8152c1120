import type { CertificateStore } from '../certificates/certificate-store.js';
import type { Settings } from '../config/settings.js';
import type { GraphClient } from '../graph/graph-client.js';
import type { TableMetrics } from '../metrics/table-metrics.js';
import type { Gauges } from '../metrics/otel-metrics.js';
import { messageCount } from '../queue/message-count.js';
import { oldestMessageAgeSeconds } from '../queue/oldest-message-age.js';
import { createStatusStores } from '../status/create-status.js';
import { allSelfChecks } from './create-self-checks.js';
import { HealthChecker } from './health-checker.js';

/** The checkHealth timer's checker from the settings and the app's certificate store and Graph client. */
export function createHealthChecker(
  settings: Settings,
  parts: { certificates: Pick<CertificateStore, 'current'>; graph: Pick<GraphClient, 'get'>; gauges: Gauges; metrics?: Pick<TableMetrics, 'read'> },
): HealthChecker {
  const stores = createStatusStores(settings, parts.metrics ? { metrics: parts.metrics } : {});
  return new HealthChecker({
    checks: allSelfChecks(settings, { ...stores, certificates: parts.certificates, graphGet: (path) => parts.graph.get(path) }),
    store: stores.selfChecks,
    gauges: parts.gauges,
    queues: stores.owned,
    oldestMessageAge: (name) => oldestMessageAgeSeconds(stores.queues.getQueueClient(name)),
    messageCount: (name) => messageCount(stores.queues.getQueueClient(name)),
    deadLetterQueue: settings.deadLetterQueue,
    queueAgeMinutes: settings.health.queueAgeMinutes,
  });
}
