import type { Health, HealthReason, QueueStatus, SelfCheckStatus, Verdict } from '../status/status-snapshot.js';

/** Queues whose waiting messages mean Graph's notifications wait: an old one there is late delivery. */
export const WORK_QUEUE_ROLES: readonly QueueStatus['role'][] = ['incoming', 'lifecycle'];

/** Self-check results older than this mean checkHealth (every 5 minutes) has stopped running. */
export const SELF_CHECKS_STALE_MINUTES = 30;

/** A work queue's oldest message this many times HEALTH_QUEUE_AGE_MINUTES old makes the verdict failing. */
const QUEUE_AGE_FAILING_FACTOR = 6;

export interface HealthInputs {
  readonly now: Date;
  readonly selfChecks: readonly SelfCheckStatus[];
  /** When checkHealth last saved its results (undefined: never); the checks status runs afresh do not count. */
  readonly lastCheckRun: Date | undefined;
  readonly queues: readonly QueueStatus[];
  readonly deadLettersWaiting: number | null;
  /** HEALTH_QUEUE_AGE_MINUTES */
  readonly queueAgeMinutes: number;
  /** What could not be read (storage down, a table refused): each degrades the verdict. */
  readonly unavailable: readonly string[];
}

/**
 * One verdict from everything the status reads: `failing` when a self-check fails or a work queue's oldest
 * message is far too old; `degraded` when a self-check warns, dead letters wait, a work queue lags,
 * storage did not answer or the self-checks stopped running; `healthy` otherwise. Only what holds now
 * counts (no windowed count of past errors), so the verdict turns healthy as soon as the cause is gone;
 * alerts in Azure watch the rates.
 */
export function judgeHealth(h: HealthInputs): Health {
  const reasons: HealthReason[] = [];
  for (const what of h.unavailable) {
    reasons.push({
      level: 'degraded',
      source: 'storage',
      message: `storage did not answer: ${what}`,
      fix: 'Check the storage account (or Azurite locally) is up and reachable; the receive path answers 503 meanwhile and Graph retries.',
    });
  }
  for (const c of h.selfChecks) {
    if (c.status === 'fail' || c.status === 'warn') reasons.push({ level: c.status === 'fail' ? 'failing' : 'degraded', source: c.check, message: c.message, ...(c.fix ? { fix: c.fix } : {}) });
  }
  const lastRun = h.lastCheckRun?.getTime() ?? 0;
  if (h.unavailable.length === 0 && h.now.getTime() - lastRun > SELF_CHECKS_STALE_MINUTES * 60_000) {
    reasons.push({
      level: 'degraded',
      source: 'self_checks',
      message: lastRun ? `the self-checks last ran at ${new Date(lastRun).toISOString()}` : 'the self-checks have not run yet',
      fix: 'checkHealth runs every 5 minutes and at start: see that the function is enabled (AzureWebJobs.checkHealth.Disabled) and its last invocation in the logs.',
    });
  }
  if (h.deadLettersWaiting) {
    reasons.push({
      level: 'degraded',
      source: 'dead_letters',
      message: `${h.deadLettersWaiting} dead letter${h.deadLettersWaiting === 1 ? '' : 's'} waiting`,
      fix: 'Read their reasons below (or `npm run status`), fix the cause, then `npm run replay` (docs/operations.md).',
    });
  }
  for (const q of h.queues) {
    if (!WORK_QUEUE_ROLES.includes(q.role) || q.oldestMessageAgeSeconds === null || q.oldestMessageAgeSeconds <= h.queueAgeMinutes * 60) continue;
    const failing = q.oldestMessageAgeSeconds > h.queueAgeMinutes * 60 * QUEUE_AGE_FAILING_FACTOR;
    reasons.push({
      level: failing ? 'failing' : 'degraded',
      source: 'queues',
      message: `the oldest message on ${q.name} has waited ${Math.round(q.oldestMessageAgeSeconds / 60)} min (over ${h.queueAgeMinutes} min)`,
      fix: "Its function is not keeping up or not running: look for its invocations' errors in the logs, the host's scale (docs/scale.md) and whether it is disabled.",
    });
  }
  const verdict: Verdict = reasons.some((r) => r.level === 'failing') ? 'failing' : reasons.length > 0 ? 'degraded' : 'healthy';
  return { verdict, reasons: reasons.sort((a, b) => (a.level === b.level ? 0 : a.level === 'failing' ? -1 : 1)) };
}
