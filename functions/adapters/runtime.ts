import { app, type InvocationContext } from '@azure/functions';
import { createApp } from '../../shared/app/create-app.js';
import { readSettings, type Settings } from '../../shared/config/settings.js';
import { describeStorage } from '../../shared/config/storage-connection.js';
import { storageTimeoutCapReason } from '../../shared/config/settings/receive.js';
import { notificationQueueNames } from '../../shared/queue/notification-queues.js';
import { createJsonLogger, createScopedLogger, type Logger } from '../../shared/log.js';
import { fanOut, type Metrics } from '../../shared/metrics/metrics.js';
import { createOtelGauges, createOtelMetrics, noGauges } from '../../shared/metrics/otel-metrics.js';
import { createHealthChecker } from '../../shared/health/create-health-checker.js';
import { createStatusReader, createTableMetrics } from '../../shared/status/create-status.js';
import { invocationLogger } from './invocation-logger.js';
import { declareWorkerTelemetry, startTelemetry } from './telemetry.js';
import { createPoisonMover, createRouteCleanups } from '../../shared/route/create-notification-processor.js';
import { maskSecrets } from '../../shared/util/mask-secrets.js';
import type { Cleanup } from '../../shared/util/run-cleanups.js';

/** `make`'s result, made on the first call and kept (a call that throws keeps nothing, so the next one tries again). */
function memoised<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/**
 * The app's settings, read from the environment and validated once, at host start (below) or on first use: a
 * bad setting stops start-up with a message naming it. No function file reads them when the host loads it:
 * queue names and schedules are binding expressions the host resolves (trigger-bindings.ts).
 */
const appSettings = memoised((): Settings => readSettings(process.env));

/**
 * The composition root of the function app, built on first use (and at host start, below): importing a
 * function file builds nothing, so its handler can be called in a test with the parts a test environment names.
 */
export const runtime = memoised(() => compose(appSettings()));

/**
 * Azure Monitor's distro when APPLICATIONINSIGHTS_CONNECTION_STRING is set (see telemetry.ts), started once,
 * before the runtime is composed (at host start, below), so the clients it instruments are created after it.
 */
const telemetry = memoised(() => startTelemetry(appSettings()));

/**
 * The invocation's logger (counting what it logs in the runtime's metrics); `work` runs with it as the log of
 * the parts built at start-up too (the reconciler, the gap detector), so their lines belong to the invocation.
 */
export async function withInvocationLog<T>(context: InvocationContext, work: (logger: Logger) => Promise<T>): Promise<T> {
  const structuredLogs = await telemetry();
  const { log, metrics } = runtime();
  const logger = invocationLogger(context, metrics, structuredLogs);
  return log.within(logger, () => work(logger));
}

export type Runtime = ReturnType<typeof compose>;

function compose(settings: Settings) {
  const log = createScopedLogger(createJsonLogger());
  const tableMetrics = createTableMetrics(settings, { flushIntervalMs: settings.metrics.flushSeconds * 1000, logger: log });
  /** The relay's measures: in METRICS_TABLE, and as OpenTelemetry metrics when Application Insights is set. */
  const metrics: Metrics = settings.metrics.appInsights ? fanOut(tableMetrics, createOtelMetrics()) : tableMetrics;
  const { certificates, subscriptions, tenants, routedEvents, gaps, notificationProcessor, backfill, notificationReceiver } = createApp(settings, { logger: log, metrics });

  log.info('app.configured', {
    environment: settings.environment,
    storage: describeStorage(settings.storage),
    notificationsQueue: settings.notificationsQueue,
    notificationsQueues: notificationQueueNames(settings),
    lifecycleQueue: settings.lifecycleQueue,
    deadLetterQueue: settings.deadLetterQueue,
    claimCheckContainer: settings.notificationsContainer,
    certificateStore: settings.certificates.kind === 'keyvault' ? `${settings.certificates.vaultUrl} (${settings.certificates.certificateName})` : settings.certificates.folder,
    routesFile: settings.routesFile ?? null,
    graph: settings.graphBaseUrl.href,
    graphAuth: settings.graphAuth.mode,
    desiredSubscriptions: subscriptions.reconciler.desired.length,
    notificationUrl: maskSecrets(settings.notificationUrl),
    jwksUrl: settings.jwksUrl.href,
    tenants: settings.tenantIds.length,
    clientStateSecrets: settings.clientStates.length,
  });
  if (settings.storageTimeoutConfiguredMs !== undefined) {
    log.warn('app.setting_capped', {
      setting: 'RECEIVE_STORAGE_TIMEOUT_MS',
      configured: settings.storageTimeoutConfiguredMs,
      used: settings.storageTimeoutMs,
      reason: storageTimeoutCapReason(settings.storageTimeoutConfiguredMs),
    });
  }

  if (settings.certificates.kind === 'local') {
    // The local store creates its self-signed certificate on first start, so subscriptions can use it at once.
    certificates.current().then(
      (c) => log.info('certificates.current', { id: c.id, thumbprint: c.thumbprint, notAfter: c.notAfter.toISOString() }),
      (e: Error) => log.error('certificates.unavailable', { error: e.message }),
    );
  }

  return {
    settings,
    log,
    metrics,
    tableMetrics,
    /** What `/api/status` shows (the same as `npm run status`). */
    readStatus: createStatusReader(settings, { metrics: tableMetrics }),
    /** The checkHealth timer's work: every self-check, the queues' ages, the verdict as gauges. */
    healthChecker: createHealthChecker(settings, { certificates, graph: subscriptions.graph, gauges: settings.metrics.appInsights ? createOtelGauges() : noGauges, metrics: tableMetrics }),
    certificates,
    notificationReceiver,
    subscriptions,
    /** The tenant registry and each tenant's onboarding and offboarding. */
    tenants,
    notificationProcessor,
    /** The daily timer's clean-ups, each run whatever became of the others (see runCleanups). */
    cleanups: [
      ...createRouteCleanups(settings, routedEvents),
      { event: 'metrics.pruned', run: async () => ({ entities: await tableMetrics.prune(settings.metrics.retentionDays) }) },
      { event: 'backfill.pieces_pruned', run: async () => ({ pieceRows: await backfill.pieces.prune(gaps, new Date()) }) },
      { event: 'backfill.gaps_pruned', run: async () => ({ gapRows: await backfill.detector.prune() }) },
    ] satisfies Cleanup[],
    poisonMover: createPoisonMover(settings),
    backfill,
  };
}

// In the host, the whole app is composed at start, as before: a bad setting, routing file or subscriptions
// file stops start-up, and the first request pays for nothing. (Outside a host the library skips the hook.)
declareWorkerTelemetry(process.env);

app.hook.appStart(async () => {
  await telemetry();
  runtime();
});

// What is counted since the last flush is written when the host stops the worker, too.
app.hook.appTerminate(async () => {
  const { tableMetrics, log } = runtime();
  await tableMetrics.close().catch((e: Error) => log.warn('metrics.not_written', { error: e.message }));
});
