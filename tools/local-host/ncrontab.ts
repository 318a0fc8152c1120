/**
 * NCRONTAB schedules as the Functions timer trigger reads them: six fields
 * `{second} {minute} {hour} {day} {month} {day-of-week}` (five fields: no seconds), UTC. Each field takes
 * `*`, numbers, ranges `a-b`, steps `* /n` and `a-b/n`, lists `a,b`, month and day names. As in NCrontab,
 * a time matches when every field matches (day and day-of-week together).
 */
export interface CronSchedule {
  readonly expression: string;
  next(after: Date): Date;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function parseField(field: string, min: number, max: number, names: string[] | undefined, nameBase: number, label: string): number[] {
  const values = new Set<number>();
  const value = (token: string) => {
    const i = names?.indexOf(token.toLowerCase()) ?? -1;
    if (i >= 0) return i + nameBase;
    if (!/^\d+$/.test(token)) throw new Error(`"${token}" is not a valid ${label}`);
    return Number(token);
  };
  for (const part of field.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`"${part}" has a bad step in the ${label} field`);
    let lo: number;
    let hi: number;
    if (range === '*') [lo, hi] = [min, max];
    else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      [lo, hi] = [value(a), value(b)];
    } else {
      lo = value(range);
      hi = stepText === undefined ? lo : max;
    }
    if (lo < min || hi > max || lo > hi) throw new Error(`"${part}" is out of range for the ${label} field (${min}-${max})`);
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

export function parseNcrontab(expression: string): CronSchedule {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new Error(`"${expression}" is not an NCRONTAB expression: it needs 6 fields (second minute hour day month day-of-week)`);
  }
  const [sec, min, hour, day, month, dow] = fields.length === 6 ? fields : ['0', ...fields];
  const seconds = parseField(sec as string, 0, 59, undefined, 0, 'second');
  const minutes = parseField(min as string, 0, 59, undefined, 0, 'minute');
  const hours = parseField(hour as string, 0, 23, undefined, 0, 'hour');
  const days = new Set(parseField(day as string, 1, 31, undefined, 0, 'day'));
  const months = new Set(parseField(month as string, 1, 12, MONTHS, 1, 'month'));
  // 7 is Sunday too.
  const weekdays = new Set(parseField(dow as string, 0, 7, DAYS, 0, 'day-of-week').map((v) => (v === 7 ? 0 : v)));

  return {
    expression,
    next(after: Date): Date {
      const start = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
      const startDay = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
      for (let d = 0; d < 366 * 5; d++) {
        const dayStart = new Date(startDay + d * 86_400_000);
        if (!months.has(dayStart.getUTCMonth() + 1) || !days.has(dayStart.getUTCDate()) || !weekdays.has(dayStart.getUTCDay())) continue;
        for (const h of hours) {
          for (const m of minutes) {
            for (const s of seconds) {
              const t = dayStart.getTime() + ((h * 60 + m) * 60 + s) * 1000;
              if (t >= start.getTime()) return new Date(t);
            }
          }
        }
      }
      throw new Error(`"${expression}" never occurs`);
    },
  };
}
