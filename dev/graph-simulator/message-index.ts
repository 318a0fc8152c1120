import type { SimMessage } from './teams-model.js';

/**
 * The read APIs' index of messages: every change of a message (creation, edit, deletion) gets the next
 * sequence number and is appended, with its time, to append-only logs (one for the tenant, one per chat or
 * channel). The simulator's clock never goes back, so each log is ordered by time as well as by sequence
 * number, and a time window or a paging position is a binary search. A message's older entries stay in the
 * logs; a query counts only the entry of its last change at or before the query's snapshot, so a message
 * changed while a client pages is neither skipped nor returned twice.
 */
export interface IndexEntry {
  readonly seq: number;
  readonly at: number;
  readonly message: SimMessage;
}

export interface LogRange {
  /** Only entries with a sequence number at or below this one (the snapshot a paging started from). */
  readonly snapshotSeq: number;
  /** Exclusive paging position: descending, entries below it; ascending, entries above it. */
  readonly afterSeq?: number;
  readonly beforeSeq?: number;
  /** Exclusive time bounds, in ms. */
  readonly gtMs?: number;
  readonly ltMs?: number;
}

/** The message's last change at or before the snapshot is this entry. */
export function isCurrentAt(entry: IndexEntry, snapshotSeq: number): boolean {
  const seqs = entry.message.changeSeqs;
  for (let i = seqs.length - 1; i >= 0; i--) {
    const seq = seqs[i] as number;
    if (seq <= snapshotSeq) return seq === entry.seq;
  }
  return false;
}

/** First index whose value is not below `value` (entries ascending by `key`). */
function lowerBound(entries: readonly IndexEntry[], value: number, key: (e: IndexEntry) => number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(entries[mid] as IndexEntry) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const bySeq = (e: IndexEntry) => e.seq;
const byAt = (e: IndexEntry) => e.at;

/** An append-only log ordered by sequence number and time. */
export class OrderedLog {
  readonly #entries: IndexEntry[] = [];

  append(entry: IndexEntry): void {
    this.#entries.push(entry);
  }

  /** Entries in the range, newest first. */
  *descending(range: LogRange): Generator<IndexEntry> {
    const e = this.#entries;
    let end = lowerBound(e, Math.min(range.snapshotSeq + 1, range.beforeSeq ?? Infinity), bySeq);
    if (range.ltMs !== undefined) end = Math.min(end, lowerBound(e, range.ltMs, byAt));
    for (let i = end - 1; i >= 0; i--) {
      const entry = e[i] as IndexEntry;
      if (range.gtMs !== undefined && entry.at <= range.gtMs) return;
      yield entry;
    }
  }

  /** Entries in the range, oldest first. */
  *ascending(range: LogRange): Generator<IndexEntry> {
    const e = this.#entries;
    let start = lowerBound(e, (range.afterSeq ?? 0) + 1, bySeq);
    if (range.gtMs !== undefined) start = Math.max(start, lowerBound(e, range.gtMs + 1, byAt));
    for (let i = start; i < e.length; i++) {
      const entry = e[i] as IndexEntry;
      if (entry.seq > range.snapshotSeq || (range.ltMs !== undefined && entry.at >= range.ltMs)) return;
      yield entry;
    }
  }
}

/** Where a message lives: a chat id, or `teamId/channelId`. */
export const containerKeyOf = (location: SimMessage['location']): string => (location.kind === 'chat' ? location.chatId : `${location.teamId}/${location.channelId}`);

export class MessageIndex {
  #seq = 0;
  /** Every change of every message, by time of change. */
  readonly changes = new OrderedLog();
  readonly #changesByContainer = new Map<string, OrderedLog>();
  readonly #createdByContainer = new Map<string, OrderedLog>();

  get lastSeq(): number {
    return this.#seq;
  }

  changesIn(containerKey: string): OrderedLog {
    return this.#log(this.#changesByContainer, containerKey);
  }

  /** Messages of a container by creation; every entry counts (a creation happens once). */
  createdIn(containerKey: string): OrderedLog {
    return this.#log(this.#createdByContainer, containerKey);
  }

  /** Records a change (`at` = the message's new lastModifiedDateTime); a creation also enters the creation log. */
  record(message: SimMessage, at: number, created: boolean): void {
    const entry: IndexEntry = { seq: ++this.#seq, at, message };
    message.changeSeqs.push(entry.seq);
    const key = containerKeyOf(message.location);
    this.changes.append(entry);
    this.changesIn(key).append(entry);
    if (created) this.createdIn(key).append(entry);
  }

  #log(map: Map<string, OrderedLog>, key: string): OrderedLog {
    let log = map.get(key);
    if (!log) map.set(key, (log = new OrderedLog()));
    return log;
  }
}
