import { MIN_CLAIM_CHECK_RETENTION_DAYS } from '../../queue/claim-check-retention.js';
import { GRAPH_SLOW_ANSWER_MS, MAX_STORAGE_TIMEOUT_MS } from '../../receive/answer-budget.js';
import { ConfigError } from '../../errors.js';
import { settingsArea, valueOf, type Env } from './define.js';
import { containerName, GUID, httpsUrl, list, queueName, rule, SettingProblem, wholeNumber } from './validators.js';

export const MICROSOFT_JWKS_URL = 'https://login.microsoftonline.com/common/discovery/v2.0/keys';
/** The tenant and app the local Graph simulator uses unless told otherwise. */
export const LOCAL_TENANT_ID = '11111111-1111-4111-8111-111111111111';
export const LOCAL_APP_ID = '22222222-2222-4222-8222-222222222222';
export const LOCAL_CLIENT_STATE = 'local-dev-client-state-change-me';

export interface ReceiveSettings {
  readonly clientStates: readonly string[];
  /** Lower case. */
  readonly appId: string;
  /** Lower case. */
  readonly tenantIds: readonly string[];
  readonly jwksUrl: URL;
  readonly notificationsQueue: string;
  /** How many incoming queues change notifications are spread over; see notificationQueueNames. */
  readonly notificationsQueuePartitions: number;
  readonly lifecycleQueue: string;
  readonly notificationsContainer: string;
  /** Days a claim-check blob is kept; at least MIN_CLAIM_CHECK_RETENTION_DAYS (see pruneClaimChecks). */
  readonly claimCheckRetentionDays: number;
  readonly maxBodyBytes: number;
  /** RECEIVE_STORAGE_TIMEOUT_MS, at most MAX_STORAGE_TIMEOUT_MS. */
  readonly storageTimeoutMs: number;
  /** RECEIVE_STORAGE_TIMEOUT_MS as configured when it was over the budget (and capped). */
  readonly storageTimeoutConfiguredMs?: number;
}

const RECEIVE_SETTINGS = {
  GRAPH_CLIENT_STATE: {
    localDefault: LOCAL_CLIENT_STATE,
    description: 'The clientState secret given to Graph with each subscription (at most 128 characters). Several, comma-separated, during a rotation: any of them is accepted.',
    read: rule((v: string, name: string) => {
      const secrets = list(v);
      if (secrets.length === 0) return new SettingProblem(`${name} is missing: set the clientState secret (or several, comma-separated).`);
      const long = secrets.flatMap((s, i) => (s.length > 128 ? [`${name}: secret #${i + 1} is longer than Graph's 128 characters.`] : []));
      return long.length > 0 ? new SettingProblem(...long) : secrets;
    }),
  },
  GRAPH_APP_ID: {
    localDefault: LOCAL_APP_ID,
    description: 'Application (client) id of our Entra app: the `aud` that validation tokens must carry.',
    read: rule((v: string, name: string) => {
      if (!v) return new SettingProblem(`${name} is missing: set the application (client) id of the Entra app.`);
      return GUID.test(v) ? v.toLowerCase() : new SettingProblem(`${name} must be a GUID (the application id).`);
    }),
  },
  GRAPH_TENANT_IDS: {
    localDefault: LOCAL_TENANT_ID,
    description:
      "The tenants served without the tenant registry (comma-separated): the first is the app's own tenant. The registry's onboarding, active and degraded tenants are served besides (docs/tenants.md); notifications of any other tenant are discarded.",
    read: rule((v: string, name: string) => {
      const ids = list(v).map((t) => t.toLowerCase());
      if (ids.length === 0) return new SettingProblem(`${name} is missing: list the tenant ids whose notifications are accepted.`);
      const bad = ids.filter((t) => !GUID.test(t)).map((t) => `${name}: "${t}" is not a tenant id (GUID).`);
      return bad.length > 0 ? new SettingProblem(...bad) : ids;
    }),
  },
  GRAPH_JWKS_URL: {
    default: MICROSOFT_JWKS_URL,
    description: 'Where the keys that sign validation tokens are published (https; http only on loopback).',
    read: httpsUrl,
  },
  NOTIFICATIONS_QUEUE: {
    default: 'graph-notifications',
    description: 'Queue that receives the accepted change notifications, one message per Graph request.',
    read: queueName,
  },
  NOTIFICATIONS_QUEUE_PARTITIONS: {
    default: '1',
    description:
      'How many incoming queues change notifications are spread over (1 to 32), each with its own queue trigger so that each scales out: `NOTIFICATIONS_QUEUE`, then `NOTIFICATIONS_QUEUE-1` … (docs/scale.md). Lowering it strands what is left on the queues dropped: drain them first.',
    read: wholeNumber(1, 32),
  },
  LIFECYCLE_QUEUE: { default: 'graph-lifecycle', description: 'Queue that receives each accepted lifecycle notification.', read: queueName },
  NOTIFICATIONS_CONTAINER: {
    default: 'graph-notification-payloads',
    description: 'Blob container for notifications too large for a queue message (claim check).',
    read: containerName,
  },
  CLAIM_CHECK_RETENTION_DAYS: {
    default: '30',
    description: `Days a claim-check blob (NOTIFICATIONS_CONTAINER) is kept before the daily prune timer (and, in Azure, the storage lifecycle policy) deletes it, from ${MIN_CLAIM_CHECK_RETENTION_DAYS}: the route deletes a blob once its message is done, this deletes those a failed send left behind. A message waiting longer than this less 7 days (the poison copy's lifetime) for routing, the app stopped, would find its blob gone: raise it before a longer stop.`,
    read: wholeNumber(MIN_CLAIM_CHECK_RETENTION_DAYS, 36_500),
  },
  NOTIFICATIONS_MAX_BODY_BYTES: {
    default: '16777216',
    description: 'Largest notification request body accepted, in bytes (larger: 413).',
    read: wholeNumber(1024, 100 * 1024 * 1024),
  },
  RECEIVE_STORAGE_TIMEOUT_MS: {
    default: String(MAX_STORAGE_TIMEOUT_MS),
    description: `Longest time a request may spend storing its batch (retries included) before it answers 503 with Retry-After; at most ${MAX_STORAGE_TIMEOUT_MS}, so that every answer comes before Graph's ${GRAPH_SLOW_ANSWER_MS} ms mark (docs/reliability.md). A larger value (earlier versions allowed 9,000 and deployed 5,000) is used as ${MAX_STORAGE_TIMEOUT_MS}, with a warning at start.`,
    // A larger value is capped, not refused: an app setting left by an earlier version must not stop the app.
    read: wholeNumber(100, Number.MAX_SAFE_INTEGER),
  },
};

/**
 * Why a RECEIVE_STORAGE_TIMEOUT_MS over the budget is not used as it is (logged at start as a warning).
 */
export function storageTimeoutCapReason(configuredMs: number): string {
  return `RECEIVE_STORAGE_TIMEOUT_MS is ${configuredMs} ms, over ${MAX_STORAGE_TIMEOUT_MS}: with a key set fetch and the host's part, answers would come after Graph's ${GRAPH_SLOW_ANSWER_MS} ms mark, and Graph counts them as slow (past 15 % slow answers it drops the endpoint's notifications for good); ${MAX_STORAGE_TIMEOUT_MS} ms is used. Set it to ${MAX_STORAGE_TIMEOUT_MS} or less.`;
}

/** Receiving notifications: who may send them, how they are verified, where they are queued. */
export const receiveSettings = settingsArea(RECEIVE_SETTINGS, {
  check: (v, report) => {
    if (typeof v.NOTIFICATIONS_QUEUE === 'string' && v.NOTIFICATIONS_QUEUE === v.LIFECYCLE_QUEUE) report('NOTIFICATIONS_QUEUE and LIFECYCLE_QUEUE must name different queues.');
    // The last partition's poison queue is the longest name the app derives from NOTIFICATIONS_QUEUE.
    const partitions = v.NOTIFICATIONS_QUEUE_PARTITIONS;
    const longest = `${v.NOTIFICATIONS_QUEUE}-${partitions - 1}-poison`;
    if (typeof v.NOTIFICATIONS_QUEUE === 'string' && typeof partitions === 'number' && partitions > 1 && longest.length > 63) {
      report(`NOTIFICATIONS_QUEUE "${v.NOTIFICATIONS_QUEUE}" is too long for ${partitions} partitions: "${longest}" would exceed 63 characters.`);
    }
  },
  slice: (v): ReceiveSettings => ({
    clientStates: v.GRAPH_CLIENT_STATE,
    appId: v.GRAPH_APP_ID,
    tenantIds: v.GRAPH_TENANT_IDS,
    jwksUrl: v.GRAPH_JWKS_URL,
    notificationsQueue: v.NOTIFICATIONS_QUEUE,
    notificationsQueuePartitions: v.NOTIFICATIONS_QUEUE_PARTITIONS,
    lifecycleQueue: v.LIFECYCLE_QUEUE,
    notificationsContainer: v.NOTIFICATIONS_CONTAINER,
    claimCheckRetentionDays: v.CLAIM_CHECK_RETENTION_DAYS,
    maxBodyBytes: v.NOTIFICATIONS_MAX_BODY_BYTES,
    storageTimeoutMs: Math.min(v.RECEIVE_STORAGE_TIMEOUT_MS, MAX_STORAGE_TIMEOUT_MS),
    ...(v.RECEIVE_STORAGE_TIMEOUT_MS > MAX_STORAGE_TIMEOUT_MS ? { storageTimeoutConfiguredMs: v.RECEIVE_STORAGE_TIMEOUT_MS } : {}),
  }),
});

/**
 * NOTIFICATIONS_QUEUE_PARTITIONS alone, as the function files read it when the host loads them: it is how many
 * queue functions to register, a count no `%SETTING%` binding expression can give (functions/adapters/trigger-bindings.ts).
 * Throws a ConfigError naming it when it is not a whole number from 1 to 32.
 */
export function readNotificationPartitions(env: Env): number {
  const name = 'NOTIFICATIONS_QUEUE_PARTITIONS';
  const definition = receiveSettings.definitions.find((d) => d.name === name);
  const parsed = RECEIVE_SETTINGS[name].read(name).safeParse(definition ? valueOf(env, definition) : undefined);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => i.message));
  return parsed.data;
}
