import { RelayError } from '../../shared/errors.js';

/**
 * NCRONTAB schedules as the Functions timer trigger reads them (the NCrontab library under the timer
 * extension): six fields `{second} {minute} {hour} {day} {month} {day-of-week}` separated by spaces, or five
 * fields without seconds. The rules, each as the library applies them:
 * - a field is `*`, a number, a range `a-b` (given backwards, `5-1`, it is read as `1-5`), a step `* /n`,
 *   `a-b/n` or `a/n` (from a to the field's maximum), or a comma list of those;
 * - a step below 1 (`* /0`) counts as 1;
 * - day-of-week is 0-6 (Sunday 0); 7 is out of range;
 * - months and days of the week may be named: any prefix of the English name, in any case (`Mon`,
 *   `monday`, `M` = Monday, the first name it begins), so `Tue`, `Tuesday`, `Sat` all work;
 * - a time matches when every field matches, day of month and day of week together (not either, as in
 *   Vixie cron);
 * - the next occurrence is strictly after the given time, at whole seconds; a schedule that never occurs
 *   (`0 0 0 30 2 *`) is accepted and never fires.
 * Times are UTC: the local host, like Flex Consumption, runs in UTC (WEBSITE_TIME_ZONE is not supported there).
 */
export interface CronSchedule {
  readonly expression: string;
  /** The first occurrence after `after`, or undefined when there is none before the year 10000. */
  next(after: Date): Date | undefined;
  /** Only the seconds field restricts the schedule (as the host judges it, to turn the schedule monitor off). */
  readonly onlySecondsRestricted: boolean;
}

export class CronExpressionError extends RelayError {
  constructor(message: string) {
    super('ERR_NCRONTAB', message);
  }
}

interface FieldSpec {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const SECOND: FieldSpec = { label: 'second', min: 0, max: 59 };
const MINUTE: FieldSpec = { label: 'minute', min: 0, max: 59 };
const HOUR: FieldSpec = { label: 'hour', min: 0, max: 23 };
const DAY: FieldSpec = { label: 'day', min: 1, max: 31 };
const MONTH: FieldSpec = {
  label: 'month',
  min: 1,
  max: 12,
  names: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
};
const DAY_OF_WEEK: FieldSpec = { label: 'day-of-week', min: 0, max: 6, names: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] };

/** The values a field allows, as a sorted list and a membership test. */
class FieldValues {
  readonly #set: boolean[];
  readonly sorted: number[];
  readonly full: boolean;
  constructor(spec: FieldSpec, set: boolean[]) {
    this.#set = set;
    this.sorted = [];
    for (let v = spec.min; v <= spec.max; v++) if (set[v]) this.sorted.push(v);
    this.full = this.sorted.length === spec.max - spec.min + 1;
  }
  has(v: number): boolean {
    return this.#set[v] === true;
  }
}

function fail(expression: string, field: string, spec: FieldSpec, why: string): never {
  throw new CronExpressionError(`"${expression}" is not a valid NCRONTAB expression: "${field}" in the ${spec.label} field ${why}.`);
}

function parseField(expression: string, text: string, spec: FieldSpec): FieldValues {
  const set: boolean[] = [];
  const bad = (why: string): never => fail(expression, text, spec, why);

  const integer = (token: string, what: string): number => {
    if (!/^\d+$/.test(token)) bad(`has "${token}", which is not ${what}`);
    const n = Number(token);
    if (!Number.isSafeInteger(n) || n > 2 ** 31 - 1) bad(`has "${token}", which is too large`);
    return n;
  };
  const value = (token: string): number => {
    if (token === '') bad('has an empty value');
    if (/^\d/.test(token)) return integer(token, 'a number');
    const names = spec.names;
    if (!names) return bad(`has "${token}": it must be a number from ${spec.min} to ${spec.max}`);
    const i = names.findIndex((n) => n.toLowerCase().startsWith(token.toLowerCase()));
    if (i < 0) bad(`has "${token}", which is not a known name (${names.join(', ')})`);
    return i + spec.min;
  };
  const add = (from: number, to: number, step: number) => {
    if (from > to) [from, to] = [to, from];
    if (from < spec.min) bad(`has ${from}, below the minimum ${spec.min}`);
    if (to > spec.max) bad(`has ${to}, above the maximum ${spec.max}`);
    for (let v = from; v <= to; v += Math.max(1, step)) set[v] = true;
  };

  // A list only when the comma is not the first character, as in the library.
  const parts = text.indexOf(',') > 0 ? text.split(',') : [text];
  for (let part of parts) {
    if (part === '') bad('has an empty list item');
    let step: number | undefined;
    const slash = part.indexOf('/');
    if (slash > 0) {
      const stepText = part.slice(slash + 1);
      // The library reads the step with int.Parse: a sign is allowed, and a step below 1 counts as 1.
      if (!/^[+-]?\d+$/.test(stepText)) bad(`has the step "${stepText}", which is not a whole number`);
      step = Number(stepText);
      part = part.slice(0, slash);
    }
    if (part === '*') {
      add(spec.min, spec.max, step ?? 1);
      continue;
    }
    const dash = part.indexOf('-');
    if (dash > 0) {
      add(value(part.slice(0, dash)), value(part.slice(dash + 1)), step ?? 1);
      continue;
    }
    const v = value(part);
    if (step === undefined) add(v, v, 1);
    else add(v, spec.max, step);
  }
  return new FieldValues(spec, set);
}

const LAST_YEAR = 9999;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function parseNcrontab(expression: string): CronSchedule {
  // The library splits on spaces only and drops empty entries; five fields mean no seconds.
  const tokens = expression.split(' ').filter((t) => t !== '');
  if (tokens.length !== 5 && tokens.length !== 6) {
    throw new CronExpressionError(
      `"${expression}" is not a valid NCRONTAB expression: it needs 6 fields separated by spaces (second minute hour day month day-of-week), or 5 without seconds; it has ${tokens.length}.`,
    );
  }
  const [sec, min, hour, day, month, dow] = (tokens.length === 6 ? tokens : ['0', ...tokens]) as [string, string, string, string, string, string];
  const seconds = parseField(expression, sec, SECOND);
  const minutes = parseField(expression, min, MINUTE);
  const hours = parseField(expression, hour, HOUR);
  const days = parseField(expression, day, DAY);
  const months = parseField(expression, month, MONTH);
  const weekdays = parseField(expression, dow, DAY_OF_WEEK);

  const next = (after: Date): Date | undefined => {
    // Whole seconds: the first candidate is the next second after `after`.
    const start = Math.floor(after.getTime() / 1000) * 1000 + 1000;
    const s = new Date(start);
    const startYear = s.getUTCFullYear();
    const startMonth = s.getUTCMonth() + 1;
    const startDay = s.getUTCDate();
    for (let y = startYear; y <= LAST_YEAR; y++) {
      for (const m of months.sorted) {
        if (y === startYear && m < startMonth) continue;
        const lastDay = daysInMonth(y, m);
        for (const d of days.sorted) {
          if (d > lastDay) break;
          if (y === startYear && m === startMonth && d < startDay) continue;
          const midnight = Date.UTC(y, m - 1, d);
          if (!weekdays.has(new Date(midnight).getUTCDay())) continue;
          for (const h of hours.sorted) {
            for (const mi of minutes.sorted) {
              for (const se of seconds.sorted) {
                const t = midnight + ((h * 60 + mi) * 60 + se) * 1000;
                if (t >= start) return new Date(t);
              }
            }
          }
        }
      }
    }
    return undefined;
  };

  return {
    expression,
    next,
    onlySecondsRestricted: tokens.length === 6 && minutes.full && hours.full && days.full && months.full && weekdays.full,
  };
}
