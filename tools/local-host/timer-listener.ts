import type { FunctionRegistry, Registration } from './core-api.js';
import type { HostLog } from './host-log.js';
import { invokeFunction, logInvocation } from './invoke-function.js';
import type { CronSchedule } from './ncrontab.js';

export interface TimerListenerOptions {
  readonly registry: FunctionRegistry;
  readonly registration: Registration;
  readonly triggerName: string;
  readonly schedule: CronSchedule;
  readonly runOnStartup: boolean;
  readonly log: HostLog;
  readonly appHookData: Record<string, unknown>;
}

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * One timer trigger: runs on its NCRONTAB schedule (UTC), once at start when runOnStartup is set, never
 * two runs at once (the next occurrence is computed after a run ends), failures are not retried. Locally
 * there is no schedule monitor, so `scheduleStatus` is null and `isPastDue` false, as with useMonitor off.
 */
export class TimerListener {
  readonly #o: TimerListenerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(options: TimerListenerOptions) {
    this.#o = options;
  }

  get nextOccurrence(): Date {
    return this.#o.schedule.next(new Date());
  }

  start(): void {
    if (this.#o.runOnStartup) void this.#fire();
    else this.#scheduleNext();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #scheduleNext(): void {
    if (this.#stopped) return;
    const next = this.#o.schedule.next(new Date());
    const wait = () => {
      const remaining = next.getTime() - Date.now();
      if (remaining <= 0) void this.#fire();
      else this.#timer = setTimeout(wait, Math.min(remaining, MAX_TIMEOUT_MS));
    };
    wait();
  }

  async #fire(): Promise<void> {
    if (this.#stopped) return;
    const input = { Schedule: { AdjustForDST: true }, ScheduleStatus: null, IsPastDue: false };
    this.#running = invokeFunction(
      this.#o.registry,
      this.#o.registration,
      { inputData: [{ name: this.#o.triggerName, data: { json: JSON.stringify(input) } }] },
      this.#o.log,
      this.#o.appHookData,
    ).then((outcome) => logInvocation(this.#o.log, this.#o.registration.metadata.name, 'timer', outcome, { schedule: this.#o.schedule.expression }));
    await this.#running;
    this.#running = undefined;
    this.#scheduleNext();
  }
}
