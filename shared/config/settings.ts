import { ConfigError } from '../errors.js';
import { parseStorageConnection, type StorageConnection } from './storage-connection.js';

/**
 * Every setting the app reads, in one table. README.md's configuration table and
 * local.settings.json.example list exactly these names (a test keeps them in step).
 *
 * `localDefault` applies only in the Development environment (`AZURE_FUNCTIONS_ENVIRONMENT=Development`,
 * which Core Tools and our local host always set); `default` applies everywhere. A setting with neither is
 * required in Azure.
 */
export interface SettingDefinition {
  readonly name: string;
  readonly default?: string;
  readonly localDefault?: string;
  readonly description: string;
}

export const MICROSOFT_JWKS_URL = 'https://login.microsoftonline.com/common/discovery/v2.0/keys';
/** The tenant and app the local Graph simulator uses unless told otherwise. */
export const LOCAL_TENANT_ID = '11111111-1111-4111-8111-111111111111';
export const LOCAL_APP_ID = '22222222-2222-4222-8222-222222222222';
export const LOCAL_CLIENT_STATE = 'local-dev-client-state-change-me';

export const SETTING_DEFINITIONS: readonly SettingDefinition[] = [
  {
    name: 'AzureWebJobsStorage',
    localDefault: 'UseDevelopmentStorage=true',
    description:
      'Storage for the host and for our queues and blobs: a connection string, `UseDevelopmentStorage=true` (Azurite), or leave unset and use the identity-based `AzureWebJobsStorage__*` settings below.',
  },
  {
    name: 'AzureWebJobsStorage__queueServiceUri',
    description: 'Identity-based storage: the queue endpoint (`https://<account>.queue.core.windows.net`).',
  },
  {
    name: 'AzureWebJobsStorage__blobServiceUri',
    description: 'Identity-based storage: the blob endpoint (claim-check blobs).',
  },
  {
    name: 'AzureWebJobsStorage__tableServiceUri',
    description: 'Identity-based storage: the table endpoint (the de-duplication log).',
  },
  {
    name: 'AzureWebJobsStorage__accountName',
    description: 'Identity-based storage, public cloud shorthand: the account name, instead of the three URIs.',
  },
  {
    name: 'AzureWebJobsStorage__credential',
    description: '`managedidentity` to use a managed identity (with `__clientId` for a user-assigned one); otherwise DefaultAzureCredential.',
  },
  {
    name: 'AzureWebJobsStorage__clientId',
    description: 'Client id of the user-assigned managed identity used for storage.',
  },
  {
    name: 'GRAPH_CLIENT_STATE',
    localDefault: LOCAL_CLIENT_STATE,
    description:
      'The clientState secret given to Graph with each subscription (at most 128 characters). Several, comma-separated, during a rotation: any of them is accepted.',
  },
  {
    name: 'GRAPH_APP_ID',
    localDefault: LOCAL_APP_ID,
    description: 'Application (client) id of our Entra app: the `aud` that validation tokens must carry.',
  },
  {
    name: 'GRAPH_TENANT_IDS',
    localDefault: LOCAL_TENANT_ID,
    description: 'Allow-list of tenant ids (comma-separated). Notifications from any other tenant are discarded.',
  },
  {
    name: 'GRAPH_JWKS_URL',
    default: MICROSOFT_JWKS_URL,
    description: 'Where the keys that sign validation tokens are published (https; http only on loopback).',
  },
  {
    name: 'GRAPH_BASE_URL',
    default: 'https://graph.microsoft.com',
    description: 'Microsoft Graph, for the subscriptions the app manages (`npm start` points it at the local Graph simulator).',
  },
  {
    name: 'GRAPH_AUTH_MODE',
    default: 'managedidentity',
    localDefault: 'simulator',
    description:
      'How the app gets Graph tokens: `managedidentity` (AZURE_CLIENT_ID for a user-assigned one), `clientsecret` (GRAPH_CLIENT_SECRET), `certificate` (GRAPH_CLIENT_CERTIFICATE_PATH), `default` (DefaultAzureCredential) or `simulator` (an unsigned token the local Graph simulator reads).',
  },
  {
    name: 'GRAPH_CLIENT_SECRET',
    description: 'Client secret of the Entra app, for GRAPH_AUTH_MODE=clientsecret (a Key Vault reference in Azure).',
  },
  {
    name: 'GRAPH_CLIENT_CERTIFICATE_PATH',
    description: 'PEM file (certificate and private key) of the Entra app, for GRAPH_AUTH_MODE=certificate.',
  },
  {
    name: 'GRAPH_NOTIFICATION_URL',
    localDefault: 'http://127.0.0.1:7071/api/notifications',
    description: 'The public URL of /api/notifications given to Graph, with the function key (`?code=…`).',
  },
  {
    name: 'GRAPH_LIFECYCLE_URL',
    localDefault: 'http://127.0.0.1:7071/api/lifecycle',
    description: 'The public URL of /api/lifecycle given to Graph, with the function key (`?code=…`).',
  },
  {
    name: 'SUBSCRIPTIONS_FILE',
    localDefault: 'subscriptions.example.json',
    description: 'The desired subscriptions (JSON; see subscriptions.example.json and docs/subscriptions.md). Unset: the app manages no subscription.',
  },
  {
    name: 'SUBSCRIPTIONS_TABLE',
    default: 'subscriptions',
    description: 'Table that records each desired subscription: its Graph id, expiry, last renewal, last error.',
  },
  {
    name: 'SUBSCRIPTION_EVENTS_QUEUE',
    default: 'teams-subscription-events',
    description: 'Queue for resync events (a subscription was removed and recreated, or notifications were missed).',
  },
  {
    name: 'RENEW_WITHIN_MINUTES',
    default: '1440',
    description: 'Renew subscriptions expiring within this many minutes (at most half their lifetime).',
  },
  {
    name: 'DELETE_UNDESIRED_SUBSCRIPTIONS',
    default: 'false',
    description: '`true` lets the reconciler delete subscriptions of ours (same notification URL) that the file no longer lists.',
  },
  {
    name: 'RECONCILE_SCHEDULE',
    default: '0 */15 * * * *',
    description: 'NCRONTAB schedule of the reconciler timer (it also runs at start).',
  },
  {
    name: 'BACKFILL_QUEUE',
    default: 'graph-backfill',
    description: 'Queue of resumable backfill pieces (one page of one Graph listing each) that fill gaps in the notifications.',
  },
  {
    name: 'BACKFILL_TABLE',
    default: 'backfill',
    description: 'Table of gaps (windows that may have lost notifications), their progress, and the app\'s heartbeat.',
  },
  {
    name: 'BACKFILL_AFTER_DOWNTIME_SECONDS',
    default: '600',
    description: 'A heartbeat older than this at start (or on any beat) opens a downtime gap for every desired subscription; 0: never.',
  },
  {
    name: 'BACKFILL_MARGIN_MINUTES',
    default: '15',
    description: 'How far each gap is widened on both sides before it is read back from Graph (clock skew, Graph\'s own delays).',
  },
  {
    name: 'BACKFILL_SAFETY_NET_HOURS',
    default: '0',
    description: 'When set (24 to 48), a daily timer reads back the last this-many hours of every desired subscription, whatever was detected; 0: off.',
  },
  {
    name: 'NOTIFICATIONS_QUEUE',
    default: 'graph-notifications',
    description: 'Queue that receives the accepted change notifications, one message per Graph request.',
  },
  {
    name: 'NOTIFICATIONS_QUEUE_PARTITIONS',
    default: '1',
    description: 'How many incoming queues change notifications are spread over (1 to 32), each with its own queue trigger so that each scales out: `NOTIFICATIONS_QUEUE`, then `NOTIFICATIONS_QUEUE-1` … (docs/scale.md). Lowering it strands what is left on the queues dropped: drain them first.',
  },
  {
    name: 'LIFECYCLE_QUEUE',
    default: 'graph-lifecycle',
    description: 'Queue that receives each accepted lifecycle notification.',
  },
  {
    name: 'NOTIFICATIONS_CONTAINER',
    default: 'graph-notification-payloads',
    description: 'Blob container for notifications too large for a queue message (claim check).',
  },
  {
    name: 'CERTIFICATE_STORE',
    default: 'keyvault',
    localDefault: 'local',
    description: 'Where the encryption certificates are: `keyvault` (Azure Key Vault) or `local` (PEM files in LOCAL_CERTIFICATE_DIR).',
  },
  {
    name: 'KEY_VAULT_URL',
    description: 'The vault holding the encryption certificate (`https://<vault>.vault.azure.net`); required when CERTIFICATE_STORE is `keyvault`.',
  },
  {
    name: 'KEY_VAULT_CERTIFICATE_NAME',
    default: 'graph-notifications',
    description: 'The Key Vault certificate that encrypts notifications; every version still in the vault decrypts.',
  },
  {
    name: 'AZURE_CLIENT_ID',
    description: 'Client id of the user-assigned managed identity used for Key Vault (read by DefaultAzureCredential).',
  },
  {
    name: 'LOCAL_CERTIFICATE_DIR',
    default: '.local/certificates',
    description: 'Folder of `<certificate id>.pem` files for CERTIFICATE_STORE=local; a self-signed certificate is created when it has none.',
  },
  {
    name: 'ROUTES_FILE',
    description: 'Optional routing file (JSON; see docs/events.md). Without it every event goes to the default queue of its kind.',
  },
  {
    name: 'DEAD_LETTER_QUEUE',
    default: 'graph-notifications-deadletter',
    description: 'Queue for messages that can never succeed (forged or undecryptable content, unknown certificate, no route), with a reason.',
  },
  {
    name: 'EVENTS_CONTAINER',
    default: 'teams-event-payloads',
    description: 'Blob container for events over the 64 KiB queue limit (the message carries `dataref`).',
  },
  {
    name: 'EVENT_TTL_SECONDS',
    default: '-1',
    description:
      'Time-to-live of downstream event messages in seconds; `-1` (the default): they never expire. Dead letters and the app\'s other messages never expire.',
  },
  {
    name: 'EVENT_PAYLOAD_RETENTION_DAYS',
    default: '30',
    description:
      'Days an event payload blob (EVENTS_CONTAINER, events over 64 KiB) is kept before the daily prune timer (and, in Azure, the storage lifecycle policy) deletes it; `0`: kept forever. Consumers must read a `dataref` within this time.',
  },
  {
    name: 'DEDUP_TABLE',
    default: 'routedevents',
    description: 'Table that records routed event ids, to skip duplicates.',
  },
  {
    name: 'DEDUP_WINDOW_MINUTES',
    default: '1440',
    description: 'How long a routed event id suppresses duplicates, in minutes (0: no de-duplication).',
  },
  {
    name: 'NOTIFICATIONS_MAX_BODY_BYTES',
    default: '16777216',
    description: 'Largest notification request body accepted, in bytes (larger: 413).',
  },
  {
    name: 'RECEIVE_STORAGE_TIMEOUT_MS',
    default: '5000',
    description:
      'Longest time a request may spend storing its batch (retries included) before it answers 503 with Retry-After.',
  },
];

export interface Settings {
  readonly environment: string;
  readonly storage: StorageConnection;
  readonly clientStates: readonly string[];
  readonly appId: string;
  readonly tenantIds: readonly string[];
  readonly jwksUrl: URL;
  readonly graphBaseUrl: URL;
  readonly notificationsQueue: string;
  /** How many incoming queues change notifications are spread over; see notificationQueueNames. */
  readonly notificationsQueuePartitions: number;
  readonly lifecycleQueue: string;
  readonly notificationsContainer: string;
  readonly maxBodyBytes: number;
  readonly storageTimeoutMs: number;
  readonly certificates:
    | { readonly kind: 'keyvault'; readonly vaultUrl: string; readonly certificateName: string; readonly clientId?: string }
    | { readonly kind: 'local'; readonly folder: string };
  readonly routesFile?: string;
  readonly deadLetterQueue: string;
  readonly eventsContainer: string;
  readonly dedupTable: string;
  readonly dedupWindowMinutes: number;
  /** -1: downstream messages never expire. */
  readonly eventTtlSeconds: number;
  /** 0: payload blobs are kept forever. */
  readonly eventPayloadRetentionDays: number;
  readonly graphAuth:
    | { readonly mode: 'managedidentity' | 'default' | 'simulator' }
    | { readonly mode: 'clientsecret'; readonly secret: string }
    | { readonly mode: 'certificate'; readonly certificatePath: string };
  readonly azureClientId?: string;
  readonly notificationUrl: string;
  readonly lifecycleUrl: string;
  readonly subscriptionsFile?: string;
  readonly subscriptionsTable: string;
  readonly subscriptionEventsQueue: string;
  readonly renewWithinMinutes: number;
  readonly deleteUndesiredSubscriptions: boolean;
  readonly reconcileSchedule: string;
  readonly backfill: {
    readonly queue: string;
    readonly table: string;
    /** 0: downtime opens no gap. */
    readonly afterDowntimeSeconds: number;
    readonly marginMinutes: number;
    /** 0: no daily safety net. */
    readonly safetyNetHours: number;
  };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const QUEUE_NAME = /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

type Env = Readonly<Record<string, string | undefined>>;

export function isDevelopment(env: Env): boolean {
  return (env.AZURE_FUNCTIONS_ENVIRONMENT ?? '').toLowerCase() === 'development';
}

/** The value a setting has in this environment: set value, else its default for this environment. */
export function settingValue(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw !== undefined && raw.trim() !== '') return raw.trim();
  const def = SETTING_DEFINITIONS.find((d) => d.name === name);
  if (!def) return undefined;
  return (isDevelopment(env) ? def.localDefault : undefined) ?? def.default;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Reads and validates every setting once. Throws one ConfigError naming each bad setting.
 */
export function readSettings(env: Env): Settings {
  const problems: string[] = [];
  const value = (name: string) => settingValue(env, name);

  let storage: StorageConnection | undefined;
  try {
    storage = parseStorageConnection(env, value('AzureWebJobsStorage'));
  } catch (e) {
    problems.push((e as Error).message);
  }

  const clientStates = list(value('GRAPH_CLIENT_STATE'));
  if (clientStates.length === 0) {
    problems.push('GRAPH_CLIENT_STATE is missing: set the clientState secret (or several, comma-separated).');
  }
  for (const [i, s] of clientStates.entries()) {
    if (s.length > 128) problems.push(`GRAPH_CLIENT_STATE: secret #${i + 1} is longer than Graph's 128 characters.`);
  }

  const appId = value('GRAPH_APP_ID') ?? '';
  if (!appId) problems.push('GRAPH_APP_ID is missing: set the application (client) id of the Entra app.');
  else if (!GUID.test(appId)) problems.push('GRAPH_APP_ID must be a GUID (the application id).');

  const tenantIds = list(value('GRAPH_TENANT_IDS')).map((t) => t.toLowerCase());
  if (tenantIds.length === 0) {
    problems.push('GRAPH_TENANT_IDS is missing: list the tenant ids whose notifications are accepted.');
  }
  for (const t of tenantIds) {
    if (!GUID.test(t)) problems.push(`GRAPH_TENANT_IDS: "${t}" is not a tenant id (GUID).`);
  }

  const httpsUrl = (name: string): URL | undefined => {
    const raw = value(name) ?? '';
    try {
      const url = new URL(raw);
      const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
      if (url.protocol !== 'https:' && !loopbackHttp) problems.push(`${name} must be an https URL (http is allowed only on loopback).`);
      return url;
    } catch {
      problems.push(`${name} is not a URL: "${raw}".`);
      return undefined;
    }
  };
  const jwksUrl = httpsUrl('GRAPH_JWKS_URL');
  const graphBaseUrl = httpsUrl('GRAPH_BASE_URL');

  const queueName = (name: string) => {
    const v = value(name) ?? '';
    if (!QUEUE_NAME.test(v)) {
      problems.push(`${name} "${v}" is not a valid queue name (3-63 lowercase letters, digits and single hyphens).`);
    }
    return v;
  };
  const notificationsQueue = queueName('NOTIFICATIONS_QUEUE');
  const lifecycleQueue = queueName('LIFECYCLE_QUEUE');
  if (notificationsQueue === lifecycleQueue) {
    problems.push('NOTIFICATIONS_QUEUE and LIFECYCLE_QUEUE must name different queues.');
  }
  const notificationsContainer = value('NOTIFICATIONS_CONTAINER') ?? '';
  if (!QUEUE_NAME.test(notificationsContainer)) {
    problems.push(`NOTIFICATIONS_CONTAINER "${notificationsContainer}" is not a valid container name.`);
  }

  const positiveInt = (name: string, min: number, max: number) => {
    const v = value(name) ?? '';
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, not "${v}".`);
      return min;
    }
    return n;
  };
  const maxBodyBytes = positiveInt('NOTIFICATIONS_MAX_BODY_BYTES', 1024, 100 * 1024 * 1024);
  const notificationsQueuePartitions = positiveInt('NOTIFICATIONS_QUEUE_PARTITIONS', 1, 32);
  // The last partition's poison queue is the longest name the app derives from NOTIFICATIONS_QUEUE.
  const longest = `${notificationsQueue}-${notificationsQueuePartitions - 1}-poison`;
  if (notificationsQueuePartitions > 1 && longest.length > 63) {
    problems.push(`NOTIFICATIONS_QUEUE "${notificationsQueue}" is too long for ${notificationsQueuePartitions} partitions: "${longest}" would exceed 63 characters.`);
  }
  const storageTimeoutMs = positiveInt('RECEIVE_STORAGE_TIMEOUT_MS', 100, 9000);
  const dedupWindowMinutes = positiveInt('DEDUP_WINDOW_MINUTES', 0, 60 * 24 * 30);
  const eventTtlRaw = value('EVENT_TTL_SECONDS') ?? '';
  const eventTtlSeconds = eventTtlRaw === '-1' ? -1 : Number(eventTtlRaw);
  if (!/^(-1|[1-9]\d{0,9})$/.test(eventTtlRaw) || eventTtlSeconds > 2_147_483_647) {
    problems.push(`EVENT_TTL_SECONDS must be -1 (never expire) or a whole number of seconds from 1 to 2147483647, not "${eventTtlRaw}".`);
  }
  const eventPayloadRetentionDays = positiveInt('EVENT_PAYLOAD_RETENTION_DAYS', 0, 36_500);
  const deadLetterQueue = queueName('DEAD_LETTER_QUEUE');
  const eventsContainer = value('EVENTS_CONTAINER') ?? '';
  if (!QUEUE_NAME.test(eventsContainer)) problems.push(`EVENTS_CONTAINER "${eventsContainer}" is not a valid container name.`);
  const dedupTable = value('DEDUP_TABLE') ?? '';
  if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(dedupTable)) problems.push(`DEDUP_TABLE "${dedupTable}" is not a valid table name (3-63 letters and digits, starting with a letter).`);

  let certificates: Settings['certificates'] | undefined;
  const store = (value('CERTIFICATE_STORE') ?? '').toLowerCase();
  if (store === 'keyvault') {
    const vault = value('KEY_VAULT_URL') ? httpsUrl('KEY_VAULT_URL') : undefined;
    if (!value('KEY_VAULT_URL')) problems.push('KEY_VAULT_URL is missing: CERTIFICATE_STORE is keyvault, so name the vault (https://<vault>.vault.azure.net).');
    const clientId = value('AZURE_CLIENT_ID');
    if (vault) certificates = { kind: 'keyvault', vaultUrl: vault.href.replace(/\/$/, ''), certificateName: value('KEY_VAULT_CERTIFICATE_NAME') ?? '', ...(clientId ? { clientId } : {}) };
    if (!/^[0-9a-zA-Z-]{1,127}$/.test(value('KEY_VAULT_CERTIFICATE_NAME') ?? '')) problems.push('KEY_VAULT_CERTIFICATE_NAME must be a Key Vault certificate name (letters, digits, hyphens).');
  } else if (store === 'local') {
    certificates = { kind: 'local', folder: value('LOCAL_CERTIFICATE_DIR') ?? '' };
  } else {
    problems.push(`CERTIFICATE_STORE must be "keyvault" or "local", not "${store}".`);
  }
  const routesFile = value('ROUTES_FILE');

  let graphAuth: Settings['graphAuth'] | undefined;
  const mode = (value('GRAPH_AUTH_MODE') ?? '').toLowerCase();
  if (mode === 'managedidentity' || mode === 'default' || mode === 'simulator') graphAuth = { mode };
  else if (mode === 'clientsecret') {
    const secret = value('GRAPH_CLIENT_SECRET');
    if (!secret) problems.push('GRAPH_CLIENT_SECRET is missing: GRAPH_AUTH_MODE is clientsecret.');
    else graphAuth = { mode, secret };
  } else if (mode === 'certificate') {
    const certificatePath = value('GRAPH_CLIENT_CERTIFICATE_PATH');
    if (!certificatePath) problems.push('GRAPH_CLIENT_CERTIFICATE_PATH is missing: GRAPH_AUTH_MODE is certificate.');
    else graphAuth = { mode, certificatePath };
  } else problems.push(`GRAPH_AUTH_MODE must be managedidentity, clientsecret, certificate, default or simulator, not "${mode}".`);
  const subscriptionsFile = value('SUBSCRIPTIONS_FILE');
  const publicUrl = (name: string): string => {
    const v = value(name);
    if (!v) {
      if (subscriptionsFile) problems.push(`${name} is missing: the app creates subscriptions (SUBSCRIPTIONS_FILE is set), so Graph needs this URL.`);
      return '';
    }
    return httpsUrl(name)?.href ?? '';
  };
  const notificationUrl = publicUrl('GRAPH_NOTIFICATION_URL');
  const lifecycleUrl = publicUrl('GRAPH_LIFECYCLE_URL');
  const subscriptionsTable = value('SUBSCRIPTIONS_TABLE') ?? '';
  if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(subscriptionsTable)) problems.push(`SUBSCRIPTIONS_TABLE "${subscriptionsTable}" is not a valid table name.`);
  const subscriptionEventsQueue = queueName('SUBSCRIPTION_EVENTS_QUEUE');
  const renewWithinMinutes = positiveInt('RENEW_WITHIN_MINUTES', 1, 4320);
  const deleteUndesired = (value('DELETE_UNDESIRED_SUBSCRIPTIONS') ?? 'false').toLowerCase();
  if (deleteUndesired !== 'true' && deleteUndesired !== 'false') problems.push('DELETE_UNDESIRED_SUBSCRIPTIONS must be true or false.');
  const reconcileSchedule = value('RECONCILE_SCHEDULE') ?? '';
  if (![5, 6].includes(reconcileSchedule.trim().split(/\s+/).length)) problems.push(`RECONCILE_SCHEDULE "${reconcileSchedule}" is not an NCRONTAB expression (6 fields: second minute hour day month day-of-week).`);
  const azureClientId = value('AZURE_CLIENT_ID');
  const backfillTable = value('BACKFILL_TABLE') ?? '';
  if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(backfillTable)) problems.push(`BACKFILL_TABLE "${backfillTable}" is not a valid table name.`);
  const safetyNetHours = positiveInt('BACKFILL_SAFETY_NET_HOURS', 0, 48);
  if (safetyNetHours > 0 && safetyNetHours < 24) problems.push(`BACKFILL_SAFETY_NET_HOURS must be 0 (off) or from 24 to 48, not ${safetyNetHours}.`);
  const backfill = {
    queue: queueName('BACKFILL_QUEUE'),
    table: backfillTable,
    afterDowntimeSeconds: positiveInt('BACKFILL_AFTER_DOWNTIME_SECONDS', 0, 30 * 24 * 3600),
    marginMinutes: positiveInt('BACKFILL_MARGIN_MINUTES', 0, 24 * 60),
    safetyNetHours,
  };

  if (problems.length > 0 || !storage || !jwksUrl || !graphBaseUrl || !certificates || !graphAuth) throw new ConfigError(problems);

  return {
    environment: env.AZURE_FUNCTIONS_ENVIRONMENT ?? 'Production',
    storage,
    clientStates,
    appId: appId.toLowerCase(),
    tenantIds,
    jwksUrl,
    graphBaseUrl,
    notificationsQueue,
    notificationsQueuePartitions,
    lifecycleQueue,
    notificationsContainer,
    maxBodyBytes,
    storageTimeoutMs,
    certificates,
    ...(routesFile ? { routesFile } : {}),
    deadLetterQueue,
    eventsContainer,
    dedupTable,
    dedupWindowMinutes,
    eventTtlSeconds,
    eventPayloadRetentionDays,
    graphAuth,
    ...(azureClientId ? { azureClientId } : {}),
    notificationUrl,
    lifecycleUrl,
    ...(subscriptionsFile ? { subscriptionsFile } : {}),
    subscriptionsTable,
    subscriptionEventsQueue,
    renewWithinMinutes,
    deleteUndesiredSubscriptions: deleteUndesired === 'true',
    reconcileSchedule,
    backfill,
  };
}
