import { parseNcrontab, type CronSchedule } from './ncrontab.js';
import { HostConfigError } from './host-errors.js';

/**
 * A timer binding's schedule, as the timer extension reads it: an NCRONTAB expression. The extension also
 * takes a TimeSpan ("00:05:00", run every five minutes), which Microsoft documents for App Service plans
 * only; this app runs on Flex Consumption, so the local host refuses it rather than run what Azure might not.
 */
export function parseTimerSchedule(expression: string): CronSchedule {
  if (/^\s*-?(\d+\.)?\d{1,2}:\d{1,2}(:\d{1,2}(\.\d+)?)?\s*$/.test(expression)) {
    throw new HostConfigError(
      `The timer schedule "${expression}" is a TimeSpan. Microsoft documents TimeSpan schedules for App Service plans only, not Flex Consumption: write it as NCRONTAB (e.g. "0 */5 * * * *" for every five minutes).`,
    );
  }
  return parseNcrontab(expression);
}
