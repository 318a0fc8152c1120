import { createBackfill, type Backfill } from '../backfill/create-backfill.js';
import { DeliveryLog } from '../backfill/delivery-log.js';
import { MembershipLog } from '../backfill/membership-log.js';
import type { CertificateStore } from '../certificates/certificate-store.js';
import type { Settings } from '../config/settings.js';
import { createTableClient } from '../config/storage-clients.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { QueuedGapRequest } from '../queue/queued-notification.js';
import { createNotificationReceiver } from '../receive/create-notification-receiver.js';
import { createCertificateStore, createNotificationProcessor, createRoutedEventLog } from '../route/create-notification-processor.js';
import { createResourceHydrator } from '../route/resource-hydrator.js';
import { createSubscriptionManager } from '../subscriptions/create-subscription-manager.js';
import type { TenantRun } from '../subscriptions/tenant-reconcilers.js';
import { TenantOnboarding } from '../tenants/tenant-onboarding.js';

/** What the app is built with besides its settings: each part left out is built from the settings. */
export interface AppOptions {
  /** The log of the parts that log outside an invocation (the reconciler, the storage-loss gaps). */
  readonly logger: Logger;
  readonly certificates?: CertificateStore;
  /** The clock of subscriptions and gaps (tests move it with the simulator's). */
  readonly now?: () => number;
  /** Where the receive path counts and times its answers (the runtime's measures). */
  readonly metrics?: Metrics;
}

/**
 * The app from its settings: the one composition root. The function app (functions/adapters/runtime.ts) and
 * the operator CLIs build it here, so each part is made one way, with one Table client per table, and
 * tests give parts (a clock, certificates) through `options` instead of wiring the app by hand.
 */
export function createApp(settings: Settings, options: AppOptions) {
  const { logger } = options;
  const certificates = options.certificates ?? createCertificateStore(settings);
  const clocked = options.now ? { now: options.now } : {};
  // Each tenant's reconcile run settles its state in the registry (tenants.onboarding, made below with the backfill).
  const observer = { observe: (run: TenantRun) => tenants.onboarding.observe(run) };
  const subscriptions = createSubscriptionManager(settings, certificates, logger, { ...clocked, observer });
  const routedEvents = createRoutedEventLog(settings);
  const hydrator = createResourceHydrator(subscriptions);
  // The backfill's stores (gaps, pieces, heartbeat), deliveries and memberships share BACKFILL_TABLE: one client for it.
  const backfillTable = createTableClient(settings.storage, settings.backfill.table);
  const deliveries = new DeliveryLog(backfillTable);
  const memberships = new MembershipLog(backfillTable);
  // The gaps a queued batch asks for (items refused for an expired validation token) are opened like the others.
  const gapRequests = {
    open: (g: QueuedGapRequest, log: Logger) => backfill.detector.openForSubscription(g.reason, g.subscriptionId, new Date(g.from), new Date(g.to), log, g.tenantId),
  };
  const notificationProcessor = createNotificationProcessor(settings, {
    certificates,
    routedLog: routedEvents,
    hydrator,
    deliveries,
    memberships,
    gapRequests,
    serves: (t) => subscriptions.tenants.serves(t),
  });
  const backfill: Backfill = createBackfill(settings, notificationProcessor, subscriptions, { table: backfillTable, memberships, ...clocked });
  // A storage outage longer than Graph's four hours of retries opens a gap for every desired subscription.
  const notificationReceiver = createNotificationReceiver(settings, {
    onStorageLoss: (from, to) => backfill.detector.open('storage_outage', from, to, undefined, logger),
    tenants: subscriptions.tenants,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  const tenants = {
    registry: subscriptions.registry,
    directory: subscriptions.tenants,
    onboarding: new TenantOnboarding({
      registry: subscriptions.registry,
      tenants: subscriptions.tenants,
      desired: subscriptions.desired,
      reconcilers: subscriptions.reconciler,
      records: subscriptions.records,
      // The simulator's unsigned tokens carry no roles of the tenant's consent: its refusals tell instead.
      ...(settings.graphAuth.mode === 'simulator' ? {} : { credentialFor: (t: string) => subscriptions.graphs.credentialFor(t) }),
      graphBaseUrl: settings.graphBaseUrl,
      baselineHours: settings.tenants.baselineHours,
      openGap: (name, from, to, log) => backfill.detector.open('tenant_baseline', from, to, name, log),
      closeGaps: (names, note) => backfill.worker.closeGapsOf(names, note),
      ...clocked,
      logger,
    }),
  };
  return { settings, certificates, subscriptions, tenants, routedEvents, gaps: backfill.gaps, deliveries, memberships, notificationProcessor, backfill, notificationReceiver };
}

export type App = ReturnType<typeof createApp>;
