import { hostname } from 'node:os';
import type { ContainerClient } from '@azure/storage-blob';
import { restStatus } from '../../shared/errors.js';
import { readBlob } from '../../shared/queue/read-blob.js';
import { HostStorageError } from './host-errors.js';
import type { CronSchedule } from './ncrontab.js';

/**
 * A timer's schedule status, as the timer extension keeps it: when it last ran, when it runs next, and when
 * the status was last written. `NEVER` (0001-01-01) stands for "not yet".
 */
export interface ScheduleStatus {
  last: Date;
  next: Date;
  lastUpdated: Date;
}

function yearOne(): Date {
  const d = new Date(0);
  d.setUTCFullYear(1, 0, 1);
  return d;
}
/** .NET's default DateTime (0001-01-01), which the extension writes for "never". */
export const NEVER = yearOne();

/** The container the host keeps its own state in. */
export const HOSTS_CONTAINER = 'azure-webjobs-hosts';

/** The next occurrence, or the far future when the schedule never occurs again (NCrontab gives DateTime.MaxValue). */
export function nextOccurrence(schedule: CronSchedule, after: Date): Date {
  return schedule.next(after) ?? new Date(Date.UTC(9999, 11, 31, 23, 59, 59));
}

/**
 * A date as the host's JSON serializer writes a local-kind DateTime on a UTC machine:
 * "2026-01-01T10:00:00+00:00", fractional seconds only when not zero ("…:00.123+00:00").
 */
export function hostDate(d: Date): string {
  return d
    .toISOString()
    .replace(/\.000Z$/, '+00:00')
    .replace(/(\.\d*?)0*Z$/, '$1+00:00');
}

function parseHostDate(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export interface ScheduleMonitor {
  getStatus(timerName: string): Promise<ScheduleStatus | undefined>;
  updateStatus(timerName: string, status: ScheduleStatus): Promise<void>;
}

/**
 * The host's ID, which names where timer statuses live: `AzureFunctionsWebHost__hostid` when set, otherwise,
 * as the host does when it runs locally, the machine name (letters and digits) and a stable hash of the app's
 * folder, lower-cased, at most 32 characters, no trailing "-". (The hash is not the host's own, so Core Tools
 * and the local host keep separate statuses for the same folder.)
 */
export function hostId(settings: Record<string, string | undefined>, appDir: string): string {
  const configured = settings.AzureFunctionsWebHost__hostid;
  if (configured) return configured;
  let hash = 0x811c9dc5;
  for (const ch of appDir) hash = Math.imul(hash ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  const machine = [...hostname()].filter((c) => /[\p{L}\p{N}]/u.test(c)).join('');
  return `${machine}-${hash}`.slice(0, 32).toLowerCase().replace(/-+$/, '');
}

/**
 * Timer statuses in blob storage where the host keeps them: container `azure-webjobs-hosts`, blob
 * `timers/<hostId>/<timer name>/status`, JSON `{"Last":…,"Next":…,"LastUpdated":…}`. Reading a status that
 * is not there gives undefined; writing is best effort (a failure is reported, not thrown), as in the host.
 */
export class BlobScheduleMonitor implements ScheduleMonitor {
  readonly #container: ContainerClient;
  readonly #hostId: string;
  readonly #onWriteFailed: (timerName: string, error: Error) => void;

  constructor(container: ContainerClient, hostIdValue: string, onWriteFailed: (timerName: string, error: Error) => void) {
    this.#container = container;
    this.#hostId = hostIdValue;
    this.#onWriteFailed = onWriteFailed;
  }

  blobName(timerName: string): string {
    return `timers/${this.#hostId}/${timerName}/status`;
  }

  async getStatus(timerName: string): Promise<ScheduleStatus | undefined> {
    let text: string;
    try {
      text = (await readBlob(this.#container.getBlobClient(this.blobName(timerName)))).toString('utf8');
    } catch (e) {
      if (restStatus(e) === 404) return undefined;
      throw e;
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new HostStorageError(`The timer status blob ${HOSTS_CONTAINER}/${this.blobName(timerName)} is not JSON.`);
    }
    const last = parseHostDate(json.Last);
    const next = parseHostDate(json.Next);
    const lastUpdated = parseHostDate(json.LastUpdated);
    if (!last || !next || !lastUpdated) throw new HostStorageError(`The timer status blob ${HOSTS_CONTAINER}/${this.blobName(timerName)} lacks Last, Next or LastUpdated.`);
    return { last, next, lastUpdated };
  }

  async updateStatus(timerName: string, status: ScheduleStatus): Promise<void> {
    const body = JSON.stringify({ Last: hostDate(status.last), Next: hostDate(status.next), LastUpdated: hostDate(status.lastUpdated) });
    const blob = this.#container.getBlockBlobClient(this.blobName(timerName));
    try {
      try {
        await blob.upload(body, Buffer.byteLength(body));
      } catch (e) {
        // The container is created on first need (one request less on every other write).
        if (restStatus(e) !== 404) throw e;
        await this.#container.createIfNotExists();
        await blob.upload(body, Buffer.byteLength(body));
      }
    } catch (e) {
      this.#onWriteFailed(timerName, e as Error);
    }
  }
}

/**
 * The extension's past-due check at start-up. With no status yet, it records one (next occurrence from now)
 * and nothing is past due. Otherwise it works out when the timer should next have run after its last run
 * (or its last update); if the recorded Next differs from that (the schedule changed), it records the
 * expected one, moved to after now when that is already over. Past due means now is after the recorded Next:
 * an occurrence was missed while the app was not running. Returns how long past due (0: not), and the status
 * as it now stands (the argument is updated in place, as in the host).
 */
export async function checkPastDue(monitor: ScheduleMonitor, timerName: string, now: Date, schedule: CronSchedule, status: ScheduleStatus | undefined): Promise<number> {
  let recordedNext: Date;
  if (!status) {
    const next = nextOccurrence(schedule, now);
    await monitor.updateStatus(timerName, { last: NEVER, next, lastUpdated: now });
    recordedNext = next;
  } else {
    let expected: Date;
    let lastUpdated: Date;
    if (status.last.getTime() !== NEVER.getTime()) {
      expected = nextOccurrence(schedule, status.last);
      lastUpdated = status.last;
    } else if (status.lastUpdated.getTime() !== NEVER.getTime()) {
      expected = nextOccurrence(schedule, status.lastUpdated);
      lastUpdated = status.lastUpdated;
    } else {
      expected = nextOccurrence(schedule, now);
      lastUpdated = now;
    }
    if (status.next.getTime() !== expected.getTime()) {
      if (now.getTime() > expected.getTime()) {
        expected = nextOccurrence(schedule, now);
        lastUpdated = now;
      }
      status.last = NEVER;
      status.next = expected;
      status.lastUpdated = lastUpdated;
      await monitor.updateStatus(timerName, status);
    }
    recordedNext = status.next;
  }
  return now.getTime() > recordedNext.getTime() ? now.getTime() - recordedNext.getTime() : 0;
}
