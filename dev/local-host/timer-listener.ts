import type { FunctionRegistry, Registration } from './core-api.js';
import type { HostLog } from './host-log.js';
import { invokeFunction, logInvocation } from './invoke-function.js';
import type { CronSchedule } from './ncrontab.js';
import { checkPastDue, hostDate, NEVER, nextOccurrence, type ScheduleMonitor, type ScheduleStatus } from './schedule-monitor.js';

export interface TimerListenerOptions {
  readonly registry: FunctionRegistry;
  readonly registration: Registration;
  readonly triggerName: string;
  readonly schedule: CronSchedule;
  readonly runOnStartup: boolean;
  /** The binding's useMonitor (default true); the host turns it off for schedules that fire more than once a minute. */
  readonly useMonitor: boolean;
  /** Where statuses are kept (the host's storage); used only when the monitor is on. */
  readonly monitor: ScheduleMonitor;
  readonly log: HostLog;
  readonly appHookData: Record<string, unknown>;
  readonly functionTimeoutMs?: number | undefined;
}

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

interface StartupInvocation {
  readonly isPastDue: boolean;
  readonly originalSchedule?: Date;
}

/**
 * The host's rule for the schedule monitor: on unless the binding turns it off, and off when only the
 * seconds field restricts the schedule and it fires more than once in the coming minute.
 */
export function monitorIsOn(useMonitor: boolean, schedule: CronSchedule, now: Date): boolean {
  if (!useMonitor) return false;
  if (!schedule.onlySecondsRestricted) return true;
  const first = schedule.next(now);
  const second = first && schedule.next(first);
  return !(second && second.getTime() < now.getTime() + 60_000);
}

/**
 * One timer trigger, as the timer extension runs it. At start, with the schedule monitor on, it reads the
 * timer's status (blob `azure-webjobs-hosts/timers/<hostId>/Host.Functions.<name>/status`) and checks
 * whether an occurrence was missed while the app was down: if so it runs at once with `isPastDue: true`,
 * which takes precedence over runOnStartup; otherwise runOnStartup runs it once at start. Then it runs on its
 * NCRONTAB schedule (UTC), never two runs at once (the next occurrence is taken after a run ends); failures
 * are not retried. After each run the status becomes Last = the run's scheduled time (its start for an
 * unscheduled run), Next = the following occurrence, and is written back. The function gets
 * `{ schedule: { adjustForDST: true }, scheduleStatus: { last, next, lastUpdated } | null, isPastDue }`,
 * scheduleStatus null when the monitor is off, as in the host.
 */
export class TimerListener {
  readonly #options: TimerListenerOptions;
  readonly #timerName: string;
  #monitorOn = false;
  #status: ScheduleStatus | undefined;
  #startup: StartupInvocation | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(options: TimerListenerOptions) {
    this.#options = options;
    this.#timerName = `Host.Functions.${options.registration.metadata.name}`;
  }

  get name(): string {
    return this.#options.registration.metadata.name;
  }

  /** When it runs next (far in the future for a schedule that never occurs). */
  get nextOccurrence(): Date {
    return this.#status?.next ?? nextOccurrence(this.#options.schedule, new Date());
  }

  get monitorOn(): boolean {
    return this.#monitorOn;
  }

  async start(): Promise<void> {
    const now = new Date();
    this.#monitorOn = monitorIsOn(this.#options.useMonitor, this.#options.schedule, now);
    let isPastDue = false;
    if (this.#monitorOn) {
      this.#status = await this.#options.monitor.getStatus(this.#timerName);
      isPastDue = (await checkPastDue(this.#options.monitor, this.#timerName, now, this.#options.schedule, this.#status)) > 0;
    }
    this.#status ??= { last: NEVER, next: nextOccurrence(this.#options.schedule, now), lastUpdated: NEVER };
    if (isPastDue) {
      this.#startup = { isPastDue: true, originalSchedule: this.#status.next };
      this.#arm(1);
    } else if (this.#options.runOnStartup) {
      this.#startup = { isPastDue: false };
      this.#arm(1);
    } else {
      this.#armForNext();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #armForNext(): void {
    const next = this.#status?.next ?? nextOccurrence(this.#options.schedule, new Date());
    this.#arm(Math.max(1, next.getTime() - Date.now()));
  }

  /** Waits `ms` (in steps no longer than setTimeout allows), then handles the timer event. */
  #arm(ms: number): void {
    if (this.#stopped) return;
    const due = Date.now() + ms;
    const wait = () => {
      const remaining = due - Date.now();
      if (remaining <= 0) void this.#onTimer();
      else this.#timer = setTimeout(wait, Math.min(remaining, MAX_TIMEOUT_MS));
    };
    this.#timer = setTimeout(wait, Math.min(ms, MAX_TIMEOUT_MS));
  }

  async #onTimer(): Promise<void> {
    const startup = this.#startup;
    this.#startup = undefined;
    if (startup?.isPastDue) this.#options.log.host('info', 'timer.past_due', { function: this.name, originalSchedule: startup.originalSchedule?.toISOString() });
    this.#running = this.#invoke(new Date(), startup?.isPastDue ?? false, startup !== undefined && !startup.isPastDue, startup?.originalSchedule);
    await this.#running;
    this.#running = undefined;
    if (!this.#stopped) this.#armForNext();
  }

  async #invoke(invocationTime: Date, isPastDue: boolean, runOnStartup: boolean, originalSchedule: Date | undefined): Promise<void> {
    if (this.#stopped) return;
    const status = this.#status as ScheduleStatus;
    const input = {
      Schedule: { AdjustForDST: true },
      ScheduleStatus: this.#monitorOn ? { Last: hostDate(status.last), Next: hostDate(status.next), LastUpdated: hostDate(status.lastUpdated) } : null,
      IsPastDue: isPastDue,
    };
    // As the host's "Executing 'Functions.<name>'" line: a Flex scale controller keeps the instance while it runs.
    this.#options.log.host('info', 'timer.executing', { function: this.name });
    const outcome = await invokeFunction(
      this.#options.registry,
      this.#options.registration,
      { inputData: [{ name: this.#options.triggerName, data: { json: JSON.stringify(input) } }] },
      this.#options.log,
      this.#options.appHookData,
      this.#options.functionTimeoutMs,
    );
    this.#options.log.host('info', 'timer.executed', { function: this.name, status: outcome.ok ? 'succeeded' : 'failed' });
    logInvocation(this.#options.log, this.name, 'timer', outcome, {
      schedule: this.#options.schedule.expression,
      ...(isPastDue ? { reason: 'IsPastDue', originalSchedule: originalSchedule?.toISOString() } : runOnStartup ? { reason: 'RunOnStartup' } : {}),
    });

    // A scheduled run counts from its scheduled time, even when the timer fired a little early.
    const adjusted = !isPastDue && !runOnStartup && status.next.getTime() > invocationTime.getTime() ? status.next : invocationTime;
    this.#status = { last: adjusted, next: nextOccurrence(this.#options.schedule, adjusted), lastUpdated: adjusted };
    if (this.#monitorOn) await this.#options.monitor.updateStatus(this.#timerName, this.#status);
  }
}
