import { describe, expect, it } from 'vitest';
import { parseNcrontab } from '../../dev/local-host/ncrontab.js';
import { checkPastDue, hostDate, NEVER, type ScheduleMonitor, type ScheduleStatus } from '../../dev/local-host/schedule-monitor.js';
import { monitorIsOn } from '../../dev/local-host/timer-listener.js';
import { parseTimerSchedule } from '../../dev/local-host/timer-schedule.js';

/** Statuses in memory, recording every write. */
class MemoryMonitor implements ScheduleMonitor {
  readonly writes: ScheduleStatus[] = [];
  async getStatus(): Promise<ScheduleStatus | undefined> {
    return undefined;
  }
  async updateStatus(_name: string, status: ScheduleStatus): Promise<void> {
    this.writes.push({ ...status });
  }
}

const t = (iso: string) => new Date(iso);
const hourly = parseNcrontab('0 0 * * * *');

describe('checkPastDue (the timer extension’s start-up check)', () => {
  it('records a first status (Next from now) and is not past due', async () => {
    const m = new MemoryMonitor();
    expect(await checkPastDue(m, 'Host.Functions.x', t('2026-01-01T10:20:00Z'), hourly, undefined)).toBe(0);
    expect(m.writes).toEqual([{ last: NEVER, next: t('2026-01-01T11:00:00Z'), lastUpdated: t('2026-01-01T10:20:00Z') }]);
  });

  it('is past due by the time since the recorded Next when an occurrence was missed', async () => {
    const m = new MemoryMonitor();
    const status = { last: t('2026-01-01T07:00:00Z'), next: t('2026-01-01T08:00:00Z'), lastUpdated: t('2026-01-01T07:00:00Z') };
    expect(await checkPastDue(m, 'x', t('2026-01-01T10:20:00Z'), hourly, status)).toBe(2 * 3_600_000 + 20 * 60_000);
    expect(m.writes).toEqual([]);
  });

  it('is not past due when the recorded Next is still ahead', async () => {
    const m = new MemoryMonitor();
    const status = { last: t('2026-01-01T10:00:00Z'), next: t('2026-01-01T11:00:00Z'), lastUpdated: t('2026-01-01T10:00:00Z') };
    expect(await checkPastDue(m, 'x', t('2026-01-01T10:20:00Z'), hourly, status)).toBe(0);
  });

  it('after a schedule change, records the occurrence the new schedule expects, moved past now when it is over', async () => {
    const m = new MemoryMonitor();
    // Recorded under an hourly schedule; now daily at 06:00, whose occurrence after Last (07:00 on the 1st) is 06:00 on the 2nd.
    const status = { last: t('2026-01-01T07:00:00Z'), next: t('2026-01-01T08:00:00Z'), lastUpdated: t('2026-01-01T07:00:00Z') };
    expect(await checkPastDue(m, 'x', t('2026-01-01T10:20:00Z'), parseNcrontab('0 0 6 * * *'), status)).toBe(0);
    expect(m.writes).toEqual([{ last: NEVER, next: t('2026-01-02T06:00:00Z'), lastUpdated: t('2026-01-01T07:00:00Z') }]);
    // The same change noticed only days later: the expected occurrence is over, so Next moves past now, not past due.
    const late = { last: t('2026-01-01T07:00:00Z'), next: t('2026-01-01T08:00:00Z'), lastUpdated: t('2026-01-01T07:00:00Z') };
    expect(await checkPastDue(m, 'x', t('2026-01-05T10:20:00Z'), parseNcrontab('0 0 6 * * *'), late)).toBe(0);
    expect(m.writes.at(-1)).toEqual({ last: NEVER, next: t('2026-01-06T06:00:00Z'), lastUpdated: t('2026-01-05T10:20:00Z') });
  });

  it('uses LastUpdated when the timer never ran', async () => {
    const m = new MemoryMonitor();
    const status = { last: NEVER, next: t('2026-01-01T08:00:00Z'), lastUpdated: t('2026-01-01T07:10:00Z') };
    expect(await checkPastDue(m, 'x', t('2026-01-01T09:30:00Z'), hourly, status)).toBe(90 * 60_000);
  });
});

describe('the schedule monitor switch', () => {
  const now = t('2026-01-01T10:20:00Z');
  it('is on by default, off when the binding says so', () => {
    expect(monitorIsOn(true, hourly, now)).toBe(true);
    expect(monitorIsOn(false, hourly, now)).toBe(false);
  });
  it('is off for a schedule that only restricts seconds and fires more than once a minute, as the host decides', () => {
    expect(monitorIsOn(true, parseNcrontab('*/15 * * * * *'), now)).toBe(false);
    expect(monitorIsOn(true, parseNcrontab('0 * * * * *'), now)).toBe(true);
    expect(monitorIsOn(true, parseNcrontab('* * * * *'), now)).toBe(true);
  });
});

describe('status dates', () => {
  it('are written as the host writes a local DateTime on a UTC machine', () => {
    expect(hostDate(NEVER)).toBe('0001-01-01T00:00:00+00:00');
    expect(hostDate(t('2026-01-01T10:00:00Z'))).toBe('2026-01-01T10:00:00+00:00');
    expect(hostDate(t('2026-01-01T10:00:00.120Z'))).toBe('2026-01-01T10:00:00.12+00:00');
  });
});

describe('parseTimerSchedule', () => {
  it('refuses a TimeSpan schedule, documented for App Service plans only, pointing to NCRONTAB', () => {
    expect(() => parseTimerSchedule('00:05:00')).toThrow(/TimeSpan.*Flex Consumption.*NCRONTAB/);
    expect(parseTimerSchedule('0 */5 * * * *').expression).toBe('0 */5 * * * *');
  });
});
