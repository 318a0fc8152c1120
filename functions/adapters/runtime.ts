import { app, type InvocationContext } from '@azure/functions';
import { readSettings } from '../../shared/config/settings.js';
import { describeStorage } from '../../shared/config/storage-connection.js';
import { createJsonLogger, createScopedLogger, type Logger } from '../../shared/log.js';
import { fanOut, type Metrics } from '../../shared/metrics/metrics.js';
import { createOtelMetrics } from '../../shared/metrics/otel-metrics.js';
import { createStatusReader, createTableMetrics } from '../../shared/status/create-status.js';
import { invocationLogger } from './invocation-logger.js';
import { startTelemetry } from './telemetry.js';
import { createNotificationReceiver } from '../../shared/receive/create-notification-receiver.js';
import { createCertificateStore, createNotificationProcessor, createPoisonMover, createRoutedEventLog, createRoutedEventsPruner } from '../../shared/route/create-notification-processor.js';
import { createBackfill } from '../../shared/backfill/create-backfill.js';
import { GapLog } from '../../shared/backfill/gap-log.js';
import { MembershipLog } from '../../shared/backfill/membership-log.js';
import { createTableClient } from '../../shared/config/storage-clients.js';
import { GraphResourceHydrator } from '../../shared/route/resource-hydrator.js';
import { maskFunctionKeys } from '../../shared/util/mask-function-key.js';
import { createSubscriptionManager } from '../../shared/subscriptions/create-subscription-manager.js';

/**
 * The composition root of the function app: settings (and the routing file) are read and validated once,
 * when the host loads the function files; a bad setting stops start-up with a message naming it.
 */
export const settings = readSettings(process.env);
// First, so that Azure Monitor's distro is in place before the clients it instruments are created.
const structuredLogs = await startTelemetry(settings);
const log = createScopedLogger(createJsonLogger());
const tableMetrics = createTableMetrics(settings, { flushIntervalMs: settings.metrics.flushSeconds * 1000, logger: log });
// What is counted since the last flush is written when the host stops the worker, too.
app.hook.appTerminate(() => tableMetrics.close().catch((e: Error) => log.warn('metrics.not_written', { error: e.message })));
/** The relay's counters: in METRICS_TABLE, and as OpenTelemetry metrics when Application Insights is set. */
export const metrics: Metrics = structuredLogs ? fanOut(tableMetrics, createOtelMetrics()) : tableMetrics;
/** What `/api/status` shows (the same as `npm run status`). */
export const readStatus = createStatusReader(settings, { metrics: tableMetrics });

/**
 * The invocation's logger (counting what it logs in `metrics`); `work` runs with it as the log of the parts
 * built at start-up too (the reconciler, the gap detector), so their lines belong to the invocation.
 */
export function withInvocationLog<T>(context: InvocationContext, work: (logger: Logger) => Promise<T>): Promise<T> {
  const logger = invocationLogger(context, metrics, structuredLogs);
  return log.within(logger, () => work(logger));
}

export const certificates = createCertificateStore(settings);
// A storage outage longer than Graph's four hours of retries opens a gap for every desired subscription.
export const notificationReceiver = createNotificationReceiver(settings, {
  onStorageLoss: (from, to) => backfill.detector.open('storage_outage', from, to, undefined, log),
});
export const subscriptions = createSubscriptionManager(settings, certificates, log);
const routedEvents = createRoutedEventLog(settings);
const hydrator = new GraphResourceHydrator(subscriptions.graph, subscriptions.records, subscriptions.reconciler.desired);
const gaps = new GapLog(createTableClient(settings.storage, settings.backfill.table));
const memberships = new MembershipLog(createTableClient(settings.storage, settings.backfill.table));
export const notificationProcessor = createNotificationProcessor(settings, certificates, routedEvents, hydrator, gaps, memberships);
export const pruneRoutedEvents = createRoutedEventsPruner(settings, routedEvents);
export const poisonMover = createPoisonMover(settings);
export const backfill = createBackfill(settings, notificationProcessor, subscriptions, { gaps, memberships });

log.info('app.configured', {
  environment: settings.environment,
  storage: describeStorage(settings.storage),
  notificationsQueue: settings.notificationsQueue,
  lifecycleQueue: settings.lifecycleQueue,
  deadLetterQueue: settings.deadLetterQueue,
  claimCheckContainer: settings.notificationsContainer,
  certificateStore: settings.certificates.kind === 'keyvault' ? `${settings.certificates.vaultUrl} (${settings.certificates.certificateName})` : settings.certificates.folder,
  routesFile: settings.routesFile ?? null,
  graph: settings.graphBaseUrl.href,
  graphAuth: settings.graphAuth.mode,
  desiredSubscriptions: subscriptions.reconciler.desired.length,
  notificationUrl: maskFunctionKeys(settings.notificationUrl),
  jwksUrl: settings.jwksUrl.href,
  tenants: settings.tenantIds.length,
  clientStateSecrets: settings.clientStates.length,
});

if (settings.certificates.kind === 'local') {
  // The local store creates its self-signed certificate on first start, so subscriptions can use it at once.
  certificates.current().then(
    (c) => log.info('certificates.current', { id: c.id, thumbprint: c.thumbprint, notAfter: c.notAfter.toISOString() }),
    (e: Error) => log.error('certificates.unavailable', { error: e.message }),
  );
}
