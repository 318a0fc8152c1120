import { settingsArea } from './define.js';
import { optionalHttpsUrl, optionalText, queueName, rule, SettingProblem, tableName, trueOrFalse, wholeNumber } from './validators.js';

export interface SubscriptionSettings {
  /** The URLs given to Graph; '' when the app creates no subscription. */
  readonly notificationUrl: string;
  readonly lifecycleUrl: string;
  readonly subscriptionsFile?: string;
  readonly subscriptionsTable: string;
  readonly subscriptionEventsQueue: string;
  readonly renewWithinMinutes: number;
  readonly deleteUndesiredSubscriptions: boolean;
  /** Run Graph's handshake against our own URLs before creating a subscription (SUBSCRIPTIONS_CHECK_ENDPOINTS). */
  readonly checkEndpointsBeforeCreate: boolean;
  readonly reconcileSchedule: string;
}

const SUBSCRIPTION_SETTINGS = {
  GRAPH_NOTIFICATION_URL: {
    localDefault: 'http://127.0.0.1:7071/api/notifications',
    description: 'The public URL of /api/notifications given to Graph, with the function key (`?code=…`).',
    read: optionalHttpsUrl,
  },
  GRAPH_LIFECYCLE_URL: {
    localDefault: 'http://127.0.0.1:7071/api/lifecycle',
    description: 'The public URL of /api/lifecycle given to Graph, with the function key (`?code=…`).',
    read: optionalHttpsUrl,
  },
  SUBSCRIPTIONS_FILE: {
    localDefault: 'subscriptions.example.json',
    description: 'The desired subscriptions (JSON; see subscriptions.example.json and docs/subscriptions.md). Unset: the app manages no subscription.',
    read: optionalText,
  },
  SUBSCRIPTIONS_TABLE: {
    default: 'subscriptions',
    description: 'Table that records each desired subscription: its Graph id, expiry, last renewal, last error.',
    read: tableName,
  },
  SUBSCRIPTION_EVENTS_QUEUE: {
    default: 'teams-subscription-events',
    description: 'Queue for resync events (a subscription was removed and recreated, or notifications were missed).',
    read: queueName,
  },
  RENEW_WITHIN_MINUTES: {
    default: '1440',
    description: 'Renew subscriptions expiring within this many minutes (at most half their lifetime).',
    read: wholeNumber(1, 4320),
  },
  DELETE_UNDESIRED_SUBSCRIPTIONS: {
    default: 'false',
    description: '`true` lets the reconciler delete subscriptions of ours (same notification URL) that the file no longer lists.',
    read: trueOrFalse,
  },
  SUBSCRIPTIONS_CHECK_ENDPOINTS: {
    default: 'true',
    description:
      "`false` skips the reconciler's own validation handshake against GRAPH_NOTIFICATION_URL and GRAPH_LIFECYCLE_URL before it creates a subscription (Graph's handshake on create still checks them). The Bicep sets it to `false` with `restrictToGraph`, whose access restrictions refuse the app's own calls (docs/deploy.md).",
    read: trueOrFalse,
  },
  RECONCILE_SCHEDULE: {
    default: '0 */15 * * * *',
    description: 'NCRONTAB schedule of the reconciler timer (it also runs at start).',
    read: rule((v: string, name: string) =>
      [5, 6].includes(v.trim().split(/\s+/).length) ? v : new SettingProblem(`${name} "${v}" is not an NCRONTAB expression (6 fields: second minute hour day month day-of-week).`),
    ),
  },
};

/** The subscriptions the app keeps in Graph: which, where Graph sends to, how they are renewed. */
export const subscriptionSettings = settingsArea(SUBSCRIPTION_SETTINGS, {
  check: (v, report) => {
    if (!v.SUBSCRIPTIONS_FILE) return;
    for (const [name, url] of [
      ['GRAPH_NOTIFICATION_URL', v.GRAPH_NOTIFICATION_URL],
      ['GRAPH_LIFECYCLE_URL', v.GRAPH_LIFECYCLE_URL],
    ] as const) {
      if (url === undefined) report(`${name} is missing: the app creates subscriptions (SUBSCRIPTIONS_FILE is set), so Graph needs this URL.`);
    }
  },
  slice: (v): SubscriptionSettings => ({
    notificationUrl: v.GRAPH_NOTIFICATION_URL?.href ?? '',
    lifecycleUrl: v.GRAPH_LIFECYCLE_URL?.href ?? '',
    ...(v.SUBSCRIPTIONS_FILE ? { subscriptionsFile: v.SUBSCRIPTIONS_FILE } : {}),
    subscriptionsTable: v.SUBSCRIPTIONS_TABLE,
    subscriptionEventsQueue: v.SUBSCRIPTION_EVENTS_QUEUE,
    renewWithinMinutes: v.RENEW_WITHIN_MINUTES,
    deleteUndesiredSubscriptions: v.DELETE_UNDESIRED_SUBSCRIPTIONS,
    checkEndpointsBeforeCreate: v.SUBSCRIPTIONS_CHECK_ENDPOINTS,
    reconcileSchedule: v.RECONCILE_SCHEDULE,
  }),
});
