import { settingsArea } from './define.js';
import { containerName, optionalText, queueName, rule, SettingProblem, tableName, wholeNumber } from './validators.js';

export interface RouteSettings {
  readonly routesFile?: string;
  readonly deadLetterQueue: string;
  readonly deadLetterContainer: string;
  readonly eventsContainer: string;
  /** -1: downstream messages never expire. */
  readonly eventTtlSeconds: number;
  /** 0: payload blobs are kept forever. */
  readonly eventPayloadRetentionDays: number;
  readonly dedupTable: string;
  readonly dedupWindowMinutes: number;
}

const ROUTE_SETTINGS = {
  ROUTES_FILE: {
    description: 'Optional routing file (JSON; see docs/events.md). Without it every event goes to the default queue of its kind.',
    read: optionalText,
  },
  DEAD_LETTER_QUEUE: {
    default: 'graph-notifications-deadletter',
    description: 'Queue for messages that can never succeed (forged or undecryptable content, unknown certificate, no route), with a reason.',
    read: queueName,
  },
  DEAD_LETTER_CONTAINER: {
    default: 'graph-notifications-deadletter',
    description:
      'Blob container for dead letters over the 64 KiB queue limit (the dead letter carries a `claimCheck` to its blob) and for the copies of the claim-check blobs that dead-lettered messages refer to. Kept as long as their dead letters: no lifecycle rule; replay deletes each blob once its original is back.',
    read: containerName,
  },
  EVENTS_CONTAINER: {
    default: 'teams-event-payloads',
    description: 'Blob container for events over the 64 KiB queue limit (the message carries `dataref`).',
    read: containerName,
  },
  EVENT_TTL_SECONDS: {
    default: '-1',
    description: "Time-to-live of downstream event messages in seconds; `-1` (the default): they never expire. Dead letters and the app's other messages never expire.",
    read: rule((v: string, name: string) => {
      const seconds = v === '-1' ? -1 : Number(v);
      return /^(-1|[1-9]\d{0,9})$/.test(v) && seconds <= 2_147_483_647
        ? seconds
        : new SettingProblem(`${name} must be -1 (never expire) or a whole number of seconds from 1 to 2147483647, not "${v}".`);
    }),
  },
  EVENT_PAYLOAD_RETENTION_DAYS: {
    default: '30',
    description:
      'Days an event payload blob (EVENTS_CONTAINER, events over 64 KiB) is kept before the daily prune timer (and, in Azure, the storage lifecycle policy) deletes it; `0`: kept forever. Consumers must read a `dataref` within this time.',
    read: wholeNumber(0, 36_500),
  },
  DEDUP_TABLE: { default: 'routedevents', description: 'Table that records routed event ids, to skip duplicates.', read: tableName },
  DEDUP_WINDOW_MINUTES: {
    default: '1440',
    description: 'How long a routed event id suppresses duplicates, in minutes (0: no de-duplication).',
    read: wholeNumber(0, 60 * 24 * 30),
  },
};

/** Routing queued notifications as events: routes, dead letters, large payloads, de-duplication. */
export const routeSettings = settingsArea(ROUTE_SETTINGS, {
  slice: (v): RouteSettings => ({
    ...(v.ROUTES_FILE ? { routesFile: v.ROUTES_FILE } : {}),
    deadLetterQueue: v.DEAD_LETTER_QUEUE,
    deadLetterContainer: v.DEAD_LETTER_CONTAINER,
    eventsContainer: v.EVENTS_CONTAINER,
    eventTtlSeconds: v.EVENT_TTL_SECONDS,
    eventPayloadRetentionDays: v.EVENT_PAYLOAD_RETENTION_DAYS,
    dedupTable: v.DEDUP_TABLE,
    dedupWindowMinutes: v.DEDUP_WINDOW_MINUTES,
  }),
});
