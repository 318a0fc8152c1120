import type { Logger } from '../log.js';
import { maskSecrets } from '../util/mask-secrets.js';
import type { Gauges } from '../metrics/otel-metrics.js';
import type { AppQueue } from '../queue/app-queues.js';
import type { Health, QueueStatus, SelfCheckStatus } from '../status/status-snapshot.js';
import { judgeHealth } from './health-verdict.js';
import type { SelfCheck } from './self-check.js';

export interface HealthCheckerOptions {
  readonly checks: readonly SelfCheck[];
  readonly store: { save(results: readonly SelfCheckStatus[]): Promise<void> };
  readonly gauges: Gauges;
  /** The queues the app owns; each one's oldest message is measured. */
  readonly queues: readonly AppQueue[];
  oldestMessageAge(queue: string): Promise<number | undefined>;
  messageCount(queue: string): Promise<number | undefined>;
  readonly deadLetterQueue: string;
  /** HEALTH_QUEUE_AGE_MINUTES */
  readonly queueAgeMinutes: number;
  /** A check taking longer than this is reported as a warning, not waited for. */
  readonly checkTimeoutMs?: number;
  readonly now?: () => Date;
}

const VERDICT_VALUE = { healthy: 0, degraded: 1, failing: 2 } as const;
const CHECK_VALUE = { ok: 0, skipped: 0, warn: 1, fail: 2 } as const;

/**
 * What the checkHealth timer runs: every self-check (each on its own: one that throws or hangs is a warning
 * naming why, the others still run), the work queues' oldest messages and the dead letters waiting; then the
 * results are saved for status, set as gauges for Azure Monitor's alerts, and each check not ok is logged.
 */
export class HealthChecker {
  readonly #o: HealthCheckerOptions;

  constructor(options: HealthCheckerOptions) {
    this.#o = options;
  }

  async run(logger: Logger): Promise<{ results: SelfCheckStatus[]; health: Health }> {
    const now = (this.#o.now ?? (() => new Date()))();
    const timeoutMs = this.#o.checkTimeoutMs ?? 20_000;
    const settled = await Promise.all(
      this.#o.checks.map(async (check) => {
        try {
          return { check, result: await withTimeout(check.run(now), timeoutMs) };
        } catch (e) {
          // An error can quote a URL with its key (a Graph refusal, a storage SAS): masked before it is saved or logged.
          return { check, result: { status: 'warn' as const, message: `the check could not run: ${maskSecrets((e as Error).message)}` } };
        }
      }),
    );
    const results: SelfCheckStatus[] = settled.map(({ check, result }) => ({
      check: check.name,
      status: result.status,
      message: result.message,
      ...(result.fix ? { fix: result.fix } : {}),
      checkedAt: now.toISOString(),
    }));
    for (const { result } of settled) for (const g of result.gauges ?? []) this.#o.gauges.set(g.name, g.value, g.attributes);
    for (const r of results) {
      this.#o.gauges.set('relay.health.check', CHECK_VALUE[r.status], { check: r.check });
      if (r.status === 'fail') logger.error('health.check_failed', { check: r.check, message: r.message });
      else if (r.status === 'warn') logger.warn('health.check_warned', { check: r.check, message: r.message });
    }

    const unavailable: string[] = [];
    const queues = await Promise.all(
      this.#o.queues.map(async (q): Promise<QueueStatus> => {
        try {
          const age = await this.#o.oldestMessageAge(q.name);
          if (age !== undefined) this.#o.gauges.set('relay.queue.oldest_message_age_seconds', age, { queue: q.name, role: q.role });
          return { name: q.name, role: q.role, approximateMessageCount: null, oldestMessageAgeSeconds: age ?? null };
        } catch (e) {
          unavailable.push(`queue ${q.name}: ${(e as Error).message}`);
          return { name: q.name, role: q.role, approximateMessageCount: null, oldestMessageAgeSeconds: null };
        }
      }),
    );
    let deadLetters: number | null = null;
    try {
      deadLetters = (await this.#o.messageCount(this.#o.deadLetterQueue)) ?? 0;
      this.#o.gauges.set('relay.dead_letters.waiting', deadLetters);
    } catch (e) {
      unavailable.push(`queue ${this.#o.deadLetterQueue}: ${(e as Error).message}`);
    }
    const health = judgeHealth({ now, selfChecks: results, lastCheckRun: now, queues, deadLettersWaiting: deadLetters, queueAgeMinutes: this.#o.queueAgeMinutes, unavailable });
    this.#o.gauges.set('relay.health.verdict', VERDICT_VALUE[health.verdict]);
    logger.info('health.checked', { verdict: health.verdict, reasons: health.reasons.length, checks: Object.fromEntries(results.map((r) => [r.check, r.status])) });
    await this.#o.store.save(results);
    return { results, health };
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
