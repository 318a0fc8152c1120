import { randomUUID } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import type { Logger } from '../log.js';
import { deleteEntities } from '../util/delete-entities.js';
import { tableOnce } from '../util/table-once.js';
import { addBuckets, bucketOf, emptyBuckets, type BucketCounts } from './histogram.js';
import { counterKey, type HistogramName, type HourTotals, type MetricName, type MetricTotals, type Metrics } from './metrics.js';

/** The hour a time falls in, as a partition key that sorts by time: `2026112313`. */
export const hourBucket = (at: Date) => at.toISOString().slice(0, 13).replace(/[-T]/g, '');

const DAY_MS = 24 * 60 * 60 * 1000;

interface Bucket {
  readonly hour: string;
  readonly counters: Map<string, number>;
  readonly histograms: Map<string, BucketCounts>;
  readonly lastRouted: Map<string, string>;
  dirty: boolean;
}

interface MetricsEntity {
  partitionKey: string;
  rowKey: string;
  counters: string;
  /** Bucket counts by `<histogram>.<label>` (histogram.ts); absent in rows written before histograms. */
  histograms?: string;
  lastRouted: string;
}

/**
 * Counters in Table storage, one entity per hour and process (partition = hour bucket, row = this process's
 * id) holding the process's totals for that hour as JSON: counters, and histograms as bucket counts (so every
 * process's and hour's add up and percentiles come from the sum). Counts are added in memory and written by one
 * upsert per flush (every `flushIntervalMs`, and when the hour turns), never on the caller's path: the data
 * path pays no storage operation for them. A process that dies loses at most its last interval's counts;
 * counters are for operators, the queues are the record. `read` sums every process's entities; `prune`
 * deletes the hours past the retention (Table storage has no TTL, and instances come and go).
 */
export class TableMetrics implements Metrics {
  readonly #table: TableClient;
  readonly #ensure: () => Promise<void>;
  readonly #instance = randomUUID();
  readonly #now: () => Date;
  readonly #logger: Logger | undefined;
  readonly #timer: NodeJS.Timeout | undefined;
  #current: Bucket;
  #previous: Bucket | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(table: TableClient, options: { flushIntervalMs?: number; now?: () => Date; logger?: Logger } = {}) {
    this.#table = table;
    this.#ensure = tableOnce(table);
    this.#now = options.now ?? (() => new Date());
    this.#logger = options.logger;
    this.#current = this.#bucket(hourBucket(this.#now()));
    if (options.flushIntervalMs) {
      this.#timer = setInterval(() => void this.flush().catch((e: Error) => this.#logger?.warn('metrics.not_written', { error: e.message })), options.flushIntervalMs);
      this.#timer.unref();
    }
  }

  add(counter: MetricName, label?: string, by = 1): void {
    const b = this.#bucketNow();
    const key = counterKey(counter, label);
    b.counters.set(key, (b.counters.get(key) ?? 0) + by);
    b.dirty = true;
  }

  observe(histogram: HistogramName, label: string, valueMs: number): void {
    if (!Number.isFinite(valueMs)) return;
    const b = this.#bucketNow();
    const key = counterKey(histogram, label);
    const buckets = b.histograms.get(key) ?? emptyBuckets();
    const i = bucketOf(valueMs);
    buckets[i] = (buckets[i] ?? 0) + 1;
    b.histograms.set(key, buckets);
    b.dirty = true;
  }

  routedAt(kind: string, at: Date): void {
    const b = this.#bucketNow();
    const iso = at.toISOString();
    if ((b.lastRouted.get(kind) ?? '') < iso) b.lastRouted.set(kind, iso);
    b.dirty = true;
  }

  /** Writes what changed since the last flush (one upsert per hour bucket touched). */
  flush(): Promise<void> {
    this.#bucketNow();
    const run = this.#flushing.then(async () => {
      for (const b of [this.#previous, this.#current]) {
        if (!b?.dirty) continue;
        b.dirty = false;
        try {
          await this.#ensure();
          const entity: MetricsEntity = {
            partitionKey: b.hour,
            rowKey: this.#instance,
            counters: JSON.stringify(Object.fromEntries(b.counters)),
            histograms: JSON.stringify(Object.fromEntries(b.histograms)),
            lastRouted: JSON.stringify(Object.fromEntries(b.lastRouted)),
          };
          await this.#table.upsertEntity(entity, 'Replace');
        } catch (e) {
          b.dirty = true;
          throw e;
        }
      }
      if (this.#previous && !this.#previous.dirty) this.#previous = undefined;
    });
    this.#flushing = run.catch(() => undefined);
    return run;
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
  }

  /**
   * Every process's measures since the hour of `since`, summed over the period and per hour; the latest
   * routed time per kind.
   */
  async read(since: Date): Promise<MetricTotals> {
    await this.#ensure();
    const hours = new Map<string, { counters: Record<string, number>; histograms: Record<string, BucketCounts> }>();
    const lastRouted: Record<string, string> = {};
    const entities = this.#table.listEntities<MetricsEntity>({ queryOptions: { filter: odata`PartitionKey ge ${hourBucket(since)}` } });
    for await (const e of entities) {
      const hour = hours.get(e.partitionKey) ?? { counters: {}, histograms: {} };
      hours.set(e.partitionKey, hour);
      addCounters(hour.counters, parseObject(e.counters));
      addHistograms(hour.histograms, parseObject(e.histograms));
      for (const [k, v] of Object.entries(parseObject(e.lastRouted))) if (typeof v === 'string' && (lastRouted[k] ?? '') < v) lastRouted[k] = v;
    }
    const counters: Record<string, number> = {};
    const histograms: Record<string, BucketCounts> = {};
    const byHour: HourTotals[] = [];
    for (const [bucket, hour] of [...hours].sort(([a], [b]) => a.localeCompare(b))) {
      addCounters(counters, hour.counters);
      addHistograms(histograms, hour.histograms);
      byHour.push({ hour: hourStart(bucket), ...hour });
    }
    return { counters, histograms, lastRouted, hours: byHour };
  }

  /**
   * Deletes every process's entities of the hours that ended `retentionDays` or more ago (the hour the
   * cutoff falls in is kept, so `read` of a time within the retention sees all its hours). A missing
   * table deletes nothing. Returns how many entities it deleted.
   */
  prune(retentionDays: number): Promise<number> {
    const cutoff = hourBucket(new Date(this.#now().getTime() - retentionDays * DAY_MS));
    return deleteEntities(this.#table, odata`PartitionKey lt ${cutoff}`);
  }

  #bucketNow(): Bucket {
    const hour = hourBucket(this.#now());
    if (hour !== this.#current.hour) {
      if (this.#current.dirty) this.#previous = this.#current;
      this.#current = this.#bucket(hour);
    }
    return this.#current;
  }

  #bucket(hour: string): Bucket {
    return { hour, counters: new Map(), histograms: new Map(), lastRouted: new Map(), dirty: false };
  }
}

/** `2026112313` → `2026-11-23T13:00:00.000Z`. */
const hourStart = (bucket: string) => `${bucket.slice(0, 4)}-${bucket.slice(4, 6)}-${bucket.slice(6, 8)}T${bucket.slice(8, 10)}:00:00.000Z`;

function addCounters(into: Record<string, number>, from: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(from)) if (typeof v === 'number') into[k] = (into[k] ?? 0) + v;
}

function addHistograms(into: Record<string, BucketCounts>, from: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(from)) if (Array.isArray(v)) into[k] = addBuckets(into[k] ?? emptyBuckets(), v);
}

function parseObject(text: unknown): Record<string, unknown> {
  try {
    const v = JSON.parse(String(text)) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
