import { readSettings } from '../../shared/config/settings.js';
import { DEFAULT_QUEUES } from '../../shared/kinds/teams-kinds.js';
import { appQueues, type QueueRole } from '../../shared/queue/app-queues.js';
import type { SimulatorProcess } from './processes.js';
import { simulatorAppSettings } from '../graph-simulator/app-settings.js';

/** The desired subscriptions' lifetime: short, so that renewals happen during a run. */
export const LIFETIME_MINUTES = 45;

/**
 * Graph's retry delays × this (Graph's real four hours of retries shrink to about five minutes). Graph then
 * keeps retrying a failing endpoint for about two and a half minutes before it gives up
 * (graphGivesUpAfterMs): longer than any outage a fault causes on this machine (an Azurite restart can take
 * half a minute under load), as Graph's real four hours are, except a long host downtime, which the app
 * must then notice (its heartbeat is written every minute, so a downtime counts from 70 s).
 */
export const GRAPH_TIME_SCALE = 0.02;
export const DOWNTIME_THRESHOLD_SECONDS = 70;

/** When Graph (dev/graph-simulator/delivery.ts) makes its last attempt: retries after 1, 2, 4… minutes × scale, none past 4 hours × scale. */
export function graphGivesUpAfterMs(scale: number): number {
  let at = 0;
  for (let delay = 60_000 * scale; at + delay <= 4 * 3600_000 * scale; delay *= 2) at += delay;
  return at;
}

export const GRAPH_GIVES_UP_AFTER_MS = graphGivesUpAfterMs(GRAPH_TIME_SCALE);

/** How far each gap is widened on both sides before it is read back (the app's BACKFILL_MARGIN_MINUTES, default 15). */
export const BACKFILL_MARGIN_MINUTES = 40;

/** The subscriptions file the run's app keeps: every kind the app relays, tenant-wide. */
export const DESIRED = [
  { name: 'chats', resource: '/chats', changeTypes: ['created', 'updated'], includeResourceData: true, lifetimeMinutes: LIFETIME_MINUTES },
  { name: 'members', resource: '/chats/getAllMembers?model=A', changeTypes: ['created', 'deleted'], includeResourceData: true, lifetimeMinutes: LIFETIME_MINUTES },
  { name: 'chat-messages', resource: '/chats/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true, lifetimeMinutes: LIFETIME_MINUTES },
  { name: 'channel-messages', resource: '/teams/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true, lifetimeMinutes: LIFETIME_MINUTES },
];

/**
 * The simulator's change kinds each desired subscription carries: the simulator's own names (its catalog is
 * independent of the app's on purpose, so that each checks the other), not the app's kind registry.
 */
export const KINDS_OF: Record<string, string[]> = { chats: ['chat'], members: ['member'], 'chat-messages': ['chatMessage'], 'channel-messages': ['channelMessage'] };

/** The run sets no queue or table name: its app uses its defaults, read as the app reads them. */
const APP_DEFAULTS = readSettings({ AZURE_FUNCTIONS_ENVIRONMENT: 'Development' });
const queuesOf = (...roles: QueueRole[]) =>
  appQueues(APP_DEFAULTS, [])
    .filter((q) => roles.includes(q.role))
    .map((q) => q.name);

/** Where the app sends each kind's events (no routing file: the default routes). */
export const EVENT_QUEUES: readonly string[] = Object.values(DEFAULT_QUEUES);
/** What the app could not deliver: the dead letters and what the host poisoned. */
export const DEAD_LETTER_QUEUES: readonly string[] = queuesOf('dead-letter', 'poison');
/** The app's own work: empty once it has caught up. */
export const WORK_QUEUES: readonly string[] = queuesOf('incoming', 'lifecycle', 'backfill', 'poison');
export const BACKFILL_TABLE = APP_DEFAULTS.backfill.table;
export const SUBSCRIPTIONS_TABLE = APP_DEFAULTS.subscriptionsTable;
/** The app's tenant registry, where a run with `--tenants 2` registers its second tenant. */
export const TENANTS_TABLE = APP_DEFAULTS.tenants.table;

/**
 * The run's own app settings, whichever stack runs the app: its desired subscriptions and its compressed time.
 * Over a Development host's settings (hostSettings) or over an Azure site's (the template's), never more.
 */
export function runAppSettings(desiredFile: string): Record<string, string> {
  return {
    SUBSCRIPTIONS_FILE: desiredFile,
    BACKFILL_AFTER_DOWNTIME_SECONDS: String(DOWNTIME_THRESHOLD_SECONDS),
    // Covers the simulated clock's lead after a clock advance (docs/reliability.md).
    BACKFILL_MARGIN_MINUTES: String(BACKFILL_MARGIN_MINUTES),
    RENEW_WITHIN_MINUTES: '20',
    RECONCILE_SCHEDULE: '*/20 * * * * *',
  };
}

/**
 * The local host's own knob (not an app setting, no site has it): a killed host's messages come back after
 * 20 s instead of Azure's 10 minutes (time compressed like Graph's retries).
 */
export const HOST_HARNESS_ENV: Readonly<Record<string, string>> = { LOCAL_HOST_QUEUE_LEASE_SECONDS: '20' };

/** The Development host's environment: Azurite by connection string, a certificate folder, simulator tokens, and the run's settings. */
export function hostSettings(run: {
  readonly connectionString: string;
  readonly desiredFile: string;
  readonly certDir: string;
  readonly sim: Pick<SimulatorProcess, 'baseUrl' | 'jwksUrl' | 'appId' | 'tenantId'>;
  readonly proxyUrl: string;
}): Record<string, string> {
  return {
    AzureWebJobsStorage: run.connectionString,
    LOCAL_CERTIFICATE_DIR: run.certDir,
    ...simulatorAppSettings(run.sim, run.proxyUrl),
    ...runAppSettings(run.desiredFile),
    ...HOST_HARNESS_ENV,
    // The harness's own environment may disable it (a test runner's): the run needs the reconciler.
    'AzureWebJobs.reconcileSubscriptions.Disabled': 'false',
  };
}
