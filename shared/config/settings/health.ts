import { settingsArea } from './define.js';
import { tableName, wholeNumber } from './validators.js';

export interface HealthSettings {
  readonly health: {
    /** The last result of each self-check. */
    readonly table: string;
    /** A desired subscription silent this long while a sibling delivers warns. */
    readonly silentSubscriptionHours: number;
    /** A backfill gap open this long warns. */
    readonly gapOpenMinutes: number;
    /** A work queue's oldest message older than this degrades the verdict (six times this: failing). */
    readonly queueAgeMinutes: number;
  };
}

const HEALTH_SETTINGS = {
  HEALTH_TABLE: {
    default: 'health',
    description: 'Table of the last result of each self-check (checkHealth writes it every 5 minutes; `npm run status` and /api/status read it).',
    read: tableName,
  },
  HEALTH_SILENT_SUBSCRIPTION_HOURS: {
    default: '24',
    description: 'The silent_subscriptions self-check warns of a desired subscription with no delivery for this many hours while another delivered within them.',
    read: wholeNumber(1, 24 * 90),
  },
  HEALTH_GAP_OPEN_MINUTES: {
    default: '120',
    description: 'The backfill_gaps self-check warns of a backfill gap still open after this many minutes.',
    read: wholeNumber(1, 7 * 24 * 60),
  },
  HEALTH_QUEUE_AGE_MINUTES: {
    default: '10',
    description: 'The verdict is degraded while the oldest message on the incoming or lifecycle queue has waited longer than this, failing past six times this.',
    read: wholeNumber(1, 24 * 60),
  },
};

/** The self-checks and the verdict (docs/operations.md). */
export const healthSettings = settingsArea(HEALTH_SETTINGS, {
  slice: (v): HealthSettings => ({
    health: {
      table: v.HEALTH_TABLE,
      silentSubscriptionHours: v.HEALTH_SILENT_SUBSCRIPTION_HOURS,
      gapOpenMinutes: v.HEALTH_GAP_OPEN_MINUTES,
      queueAgeMinutes: v.HEALTH_QUEUE_AGE_MINUTES,
    },
  }),
});
