import { settingsArea } from './define.js';
import { queueName, tableName, wholeNumber } from './validators.js';

export interface BackfillSettings {
  readonly backfill: {
    readonly queue: string;
    readonly table: string;
    /** 0: downtime opens no gap. */
    readonly afterDowntimeSeconds: number;
    readonly marginMinutes: number;
    /** 0: no daily safety net. */
    readonly safetyNetHours: number;
    /** The Graph reads per second the backfill makes in one instance, shared fairly between the tenants reading. */
    readonly readsPerSecond: number;
  };
}

const BACKFILL_SETTINGS = {
  BACKFILL_QUEUE: {
    default: 'graph-backfill',
    description: 'Queue of resumable backfill pieces (one page of one Graph listing each) that fill gaps in the notifications.',
    read: queueName,
  },
  BACKFILL_TABLE: {
    default: 'backfill',
    description: "Table of gaps (windows that may have lost notifications), their progress, and the app's heartbeat.",
    read: tableName,
  },
  BACKFILL_AFTER_DOWNTIME_SECONDS: {
    default: '600',
    description: 'A heartbeat older than this at start (or on any beat) opens a downtime gap for every desired subscription; 0: never.',
    read: wholeNumber(0, 30 * 24 * 3600),
  },
  BACKFILL_MARGIN_MINUTES: {
    default: '15',
    description: "How far each gap is widened on both sides before it is read back from Graph (clock skew, Graph's own delays).",
    read: wholeNumber(0, 24 * 60),
  },
  BACKFILL_SAFETY_NET_HOURS: {
    default: '0',
    description: 'When set (24 to 48), a daily timer reads back the last this-many hours of every desired subscription, whatever was detected; 0: off.',
    read: wholeNumber(0, 48, (hours, name) => (hours > 0 && hours < 24 ? `${name} must be 0 (off) or from 24 to 48, not ${hours}.` : undefined)),
  },
  BACKFILL_READS_PER_SECOND: {
    default: '20',
    description:
      "The backfill's Graph reads per second in one instance, shared fairly between the tenants reading (each of N tenants gets 1/N; one tenant's large gap never starves another's). Teams' own limits per chat and channel apply besides.",
    read: wholeNumber(1, 1000),
  },
};

/** Reading back from Graph what may have been missed (gaps, downtime, the daily safety net). */
export const backfillSettings = settingsArea(BACKFILL_SETTINGS, {
  slice: (v): BackfillSettings => ({
    backfill: {
      queue: v.BACKFILL_QUEUE,
      table: v.BACKFILL_TABLE,
      afterDowntimeSeconds: v.BACKFILL_AFTER_DOWNTIME_SECONDS,
      marginMinutes: v.BACKFILL_MARGIN_MINUTES,
      safetyNetHours: v.BACKFILL_SAFETY_NET_HOURS,
      readsPerSecond: v.BACKFILL_READS_PER_SECOND,
    },
  }),
});
