import type { Logger, LogFields } from '../log.js';
import type { Metrics } from './metrics.js';
import { EVENT_TYPE_PREFIX } from '../route/teams-event.js';

/** `com.microsoft.graph.teams.<kind>.<changeType>` → kind. */
function kindOf(type: unknown): string | undefined {
  if (typeof type !== 'string' || !type.startsWith(`${EVENT_TYPE_PREFIX}.`)) return undefined;
  return type.slice(EVENT_TYPE_PREFIX.length + 1).split('.')[0];
}

const numbers = (value: unknown): [string, number][] => (value && typeof value === 'object' ? Object.entries(value).filter((e): e is [string, number] => typeof e[1] === 'number' && e[1] > 0) : []);

/**
 * Counts what the domain already logs: each log event that marks an outcome (`receive.accepted`,
 * `security.rejections_summary`, `receive.bad_request`, `route.routed`, `route.duplicate_skipped`,
 * `route.dead_lettered`, `lifecycle.dead_lettered`, `route.poison_dead_lettered`) adds to its counter, and
 * `route.routed` of a live event (not backfilled) adds its end-to-end delay (`changedAt` to now) to `delay_ms`, so
 * the data path needs no second seam and every outcome is counted where it is logged, once.
 */
export function countingLogger(logger: Logger, metrics: Metrics, now: () => Date = () => new Date()): Logger {
  const count = (event: string, f: LogFields = {}) => {
    switch (event) {
      case 'receive.accepted':
        if (typeof f.accepted === 'number' && f.accepted > 0) metrics.add('accepted', undefined, f.accepted);
        break;
      case 'security.notification_rejected':
        // Which tenant's notifications come without tokens: the validation_tokens check names it.
        if (f.reason === 'validation_token_missing' && typeof f.tenantId === 'string') metrics.add('tokens_missing', f.tenantId.toLowerCase(), typeof f.count === 'number' ? f.count : 1);
        break;
      case 'security.rejections_summary':
        for (const [reason, n] of [...numbers(f.items), ...numbers(f.tokens)]) metrics.add('rejected', reason, n);
        break;
      case 'receive.bad_request':
        metrics.add('rejected', typeof f.code === 'string' ? f.code : 'bad_request');
        break;
      case 'route.routed': {
        const kind = kindOf(f.type) ?? 'unknown';
        const at = now();
        metrics.add('routed', kind);
        metrics.routedAt(kind, at);
        if (f.backfilled === true) metrics.add('backfilled');
        else {
          // A live event's end-to-end delay: from the change's own time in Graph (or its receipt) to now, on its queues.
          const changedAt = typeof f.changedAt === 'string' ? Date.parse(f.changedAt) : NaN;
          if (Number.isFinite(changedAt)) metrics.observe('delay_ms', kind, at.getTime() - changedAt);
        }
        break;
      }
      case 'route.duplicate_skipped':
        metrics.add('duplicates');
        break;
      case 'route.dead_lettered':
      case 'lifecycle.dead_lettered':
        metrics.add('dead_letters', typeof f.reason === 'string' ? f.reason : 'unknown');
        break;
      case 'route.poison_dead_lettered':
        metrics.add('dead_letters', 'poisoned');
        break;
    }
  };
  return {
    info: (event, fields) => (count(event, fields), logger.info(event, fields)),
    warn: (event, fields) => (count(event, fields), logger.warn(event, fields)),
    error: (event, fields) => (count(event, fields), logger.error(event, fields)),
  };
}
