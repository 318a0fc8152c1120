/**
 * The relay's OpenTelemetry instruments, as Application Insights receives them (table `customMetrics`, one row
 * per instrument, attribute and export interval; `value` is the interval's sum for a counter, the last value
 * for a gauge; a histogram row carries `valueCount`, `valueSum`, `valueMin`, `valueMax` and no buckets). The
 * alert rules in infra/modules/alerts.bicep query these names: a test keeps the two in step.
 */
export interface RelayInstrument {
  readonly name: string;
  readonly type: 'counter' | 'histogram' | 'gauge';
  readonly unit?: string;
  /** The attributes (customDimensions) it carries. */
  readonly attributes: readonly string[];
  readonly description: string;
}

export const RELAY_INSTRUMENTS = [
  { name: 'relay.accepted', type: 'counter', attributes: [], description: 'Notifications accepted (durably queued) by the receive endpoints.' },
  { name: 'relay.rejected', type: 'counter', attributes: ['reason'], description: 'Notifications or requests rejected, by reason.' },
  { name: 'relay.routed', type: 'counter', attributes: ['kind'], description: 'Events sent to their downstream queues, by kind.' },
  { name: 'relay.duplicates', type: 'counter', attributes: [], description: 'Events skipped as already routed.' },
  { name: 'relay.dead_letters', type: 'counter', attributes: ['reason'], description: 'Items dead-lettered, by reason.' },
  { name: 'relay.backfilled', type: 'counter', attributes: [], description: 'Events routed by the backfill.' },
  { name: 'relay.answers', type: 'counter', attributes: ['endpoint', 'status'], description: 'Answers of the receive endpoints (notifications, lifecycle) by HTTP status.' },
  { name: 'relay.slow_answers', type: 'counter', attributes: ['endpoint'], description: "Answers that took longer than Graph's 2,900 ms slow mark." },
  {
    name: 'relay.tokens_missing',
    type: 'counter',
    attributes: ['tenant'],
    description: 'Notifications with resource data refused for coming without validationTokens, by tenant (an appRoleAssignmentRequired setting).',
  },
  { name: 'relay.answer_ms', type: 'histogram', unit: 'ms', attributes: ['endpoint'], description: 'Time from a receive request to its answer.' },
  {
    name: 'relay.delay_ms',
    type: 'histogram',
    unit: 'ms',
    attributes: ['kind'],
    description: "End-to-end delay of a live event: from the change's own time in Graph to its being on its downstream queues.",
  },
  { name: 'relay.queue.oldest_message_age_seconds', type: 'gauge', unit: 's', attributes: ['queue', 'role'], description: 'Age of the oldest message on each work queue (0 when empty).' },
  { name: 'relay.dead_letters.waiting', type: 'gauge', attributes: [], description: 'Dead letters waiting on the dead-letter queue.' },
  { name: 'relay.health.check', type: 'gauge', attributes: ['check'], description: 'Each self-check: 0 ok (or skipped), 1 warn, 2 fail.' },
  {
    name: 'relay.health.verdict',
    type: 'gauge',
    attributes: [],
    description: 'The overall verdict: 0 healthy, 1 degraded, 2 failing. Reported every run of checkHealth: its absence means the app stopped.',
  },
  { name: 'relay.credential.days_left', type: 'gauge', unit: 'd', attributes: ['credential'], description: 'Days until the encryption certificate or the Graph client secret or certificate expires.' },
  { name: 'relay.backfill.oldest_open_gap_seconds', type: 'gauge', unit: 's', attributes: [], description: 'Age of the oldest backfill gap not yet closed (0 when none).' },
  { name: 'relay.subscriptions.missing', type: 'gauge', attributes: [], description: 'Desired subscriptions with no Graph subscription or an expired one.' },
] as const satisfies readonly RelayInstrument[];

export type RelayInstrumentName = (typeof RELAY_INSTRUMENTS)[number]['name'];
