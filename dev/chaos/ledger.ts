import type { RecordedChange } from '../graph-simulator/change-log.js';

/** An event found on a downstream queue, reduced to what the ledger compares. */
export interface FoundEvent {
  /** The event's `tenantid` (a dead letter's: its notification's `tenantId`); a ledger written by hand may leave it out. */
  readonly tenantId?: string;
  readonly subject: string;
  readonly changeType: string;
  readonly kind: string;
  /** Message `etag`, chat `lastUpdatedDateTime`; null for members (and for reference-only events). */
  readonly version: string | null;
  /** The event's `time` (for a member: when the app received the notification or read it back), ms. */
  readonly timeMs: number;
  readonly backfilled: boolean;
}

/** A window the app itself recorded as a gap (BACKFILL_TABLE), widened by its margin, in wall-clock ms. */
export interface GapWindow {
  /** The tenant of the gap's subscription (the app's `<name>@<tenant>`; the home tenant's without). */
  readonly tenantId?: string;
  /** The change kinds of the gap's subscription (`chat`, `member`, `chatMessage`, `channelMessage`). */
  readonly kinds: readonly string[];
  readonly fromMs: number;
  readonly toMs: number;
}

export interface LedgerResult {
  /** Changes the ledger holds the app to (every change except a user's hiding of a chat). */
  readonly changes: number;
  /** Changes found downstream exactly (resource, changeType, version; members: see docs/reliability.md). */
  readonly delivered: number;
  /**
   * Changes not found themselves, made inside a window the app recorded as a gap, whose resource's later
   * state was delivered: Graph's read APIs return only a resource's last state (docs/backfill.md). Also a
   * member added and removed again inside one gap, neither change found: the member lists before and after
   * the gap are the same.
   */
  readonly superseded: number;
  /** `superseded` by the kind of change (`chat`, `member`, `chatMessage`, `channelMessage`). */
  readonly supersededByKind: Readonly<Record<string, number>>;
  /** Changes not delivered but found on the dead-letter (or a poison) queue. */
  readonly deadLettered: number;
  /** Changes neither delivered, superseded nor dead-lettered. */
  readonly lost: number;
  /** Extra copies: events downstream beyond one per change they match. */
  readonly duplicates: number;
  /** Changes the desired subscriptions do not cover (a user hiding a chat: user-specific subscriptions only). */
  readonly excluded: number;
  /** Downstream events that match no change of the simulator (e.g. system event messages read back). */
  readonly unmatchedEvents: number;
  /** The first lost changes, for a report. */
  readonly lostSamples: readonly RecordedChange[];
}

const lower = (s: string) => s.toLowerCase();
const append = <T>(map: Map<string, T[]>, key: string, item: T) => void (map.get(key) ?? map.set(key, []).get(key)!).push(item);
const keyOf = (resource: string, changeType: string, version: string | null) => `${lower(resource)}\n${lower(changeType)}\n${version ?? ''}`;
/** Later version: message etags are epoch ms, chat versions ISO times. */
const later = (a: string, b: string) => (/^\d+$/.test(a) && /^\d+$/.test(b) ? Number(a) > Number(b) : a > b);

const byTime = (a: RecordedChange, b: RecordedChange) => a.wallMs - b.wallMs || a.seq - b.seq;

/**
 * The earliest an event of the change can carry: when the app received or read it, or, read back from the
 * chat's history, the history's time of it (the simulator's clock, taken a moment before the change was
 * logged); a chat's first member's addition, read back at the chat's creation, that creation (`chatCreatedMs`).
 */
type EarliestEventMs = (c: RecordedChange) => number;
const earliestEventMsOf =
  (chatCreatedMs: ReadonlyMap<string, number>): EarliestEventMs =>
  (c) => {
    if (c.historyAt !== undefined) return Math.min(c.wallMs, Date.parse(c.historyAt));
    const created = lower(c.changeType) === 'created' ? chatCreatedMs.get(lower(c.resource.split('/')[0] ?? '')) : undefined;
    return created !== undefined ? Math.min(c.wallMs, created) : c.wallMs;
  };

/** Whether each change can have an event of its own at or after it (the earliest free event each, which is optimal). */
function allMatchable(changes: readonly RecordedChange[], times: readonly number[], earliestEventMs: EarliestEventMs): boolean {
  let next = 0;
  for (const c of [...changes].sort(byTime)) {
    while (next < times.length && times[next]! < earliestEventMs(c)) next++;
    if (next++ >= times.length) return false;
  }
  return true;
}

/**
 * The changes of one membership and changeType that get an event (`times`, ascending): as many as can be, and
 * of the ways to match that many, the one that leaves `spare` changes unmatched where it can. Events carry no
 * identity, so a copy may stand for either of two additions; it goes to a change Graph could have told,
 * before one of a pair Graph's read APIs cannot show. Without spare changes: each in time order, as early as
 * it can be matched.
 */
function matchMembers(changes: readonly RecordedChange[], times: readonly number[], spare: ReadonlyMap<RecordedChange, RecordedChange>, earliestEventMs: EarliestEventMs): Set<RecordedChange> {
  const matched: RecordedChange[] = [];
  const ordered = [...changes].sort((a, b) => Number(spare.has(a)) - Number(spare.has(b)) || byTime(a, b));
  for (const c of ordered) if (allMatchable([...matched, c], times, earliestEventMs)) matched.push(c);
  return new Set(matched);
}

/**
 * Additions and removals of one membership that leave no trace in Graph's read APIs, each mapped to its
 * partner: an addition and the removal right after it, both inside one gap of members that the app recorded,
 * the member absent again at the gap's end (its last change up to then a removal). A backfill compares the
 * members before and after the gap and sees the same: no one.
 */
function vanishedInGap(changes: readonly RecordedChange[], gaps: readonly GapWindow[]): Map<RecordedChange, RecordedChange> {
  const ordered = [...changes].sort(byTime);
  const absentAt = (ms: number) => lower(ordered.filter((c) => c.wallMs <= ms).at(-1)?.changeType ?? '') === 'deleted';
  const pairs = new Map<RecordedChange, RecordedChange>();
  ordered.forEach((add, i) => {
    const removal = ordered[i + 1];
    if (removal === undefined || lower(add.changeType) !== 'created' || lower(removal.changeType) !== 'deleted') return;
    // A pair either of whose changes is in the chat's history is read back from it: never superseded.
    if (add.historyAt !== undefined || removal.historyAt !== undefined) return;
    const inOneGap = gaps.some((g) => g.kinds.includes(add.kind) && add.wallMs >= g.fromMs && removal.wallMs <= g.toMs && absentAt(g.toMs));
    if (inOneGap) pairs.set(add, removal).set(removal, add);
  });
  return pairs;
}

/**
 * The changes of one membership the chat's history tells: those with a system message of their own, and a
 * chat's first member's addition (none of its own) when the membership's next change is a removal that has
 * one: the backfill reads that addition back with the removal (at the chat's creation).
 */
function toldByHistory(changes: readonly RecordedChange[]): Set<RecordedChange> {
  const ordered = [...changes].sort(byTime);
  return new Set(
    ordered.filter((c, i) => {
      if (c.historyAt !== undefined) return true;
      const next = ordered[i + 1];
      return lower(c.changeType) === 'created' && next !== undefined && lower(next.changeType) === 'deleted' && next.historyAt !== undefined;
    }),
  );
}

/**
 * Compares the simulator's record of every change with what the app put downstream (and on the
 * dead-letter queue). Pure: the rules are those of docs/reliability.md.
 */
export function compareLedger(input: {
  readonly changes: readonly RecordedChange[];
  readonly events: readonly FoundEvent[];
  readonly deadLettered: readonly Omit<FoundEvent, 'timeMs' | 'backfilled'>[];
  readonly gaps: readonly GapWindow[];
}): LedgerResult {
  const inGap = (c: RecordedChange) => input.gaps.some((g) => g.kinds.includes(c.kind) && c.wallMs >= g.fromMs && c.wallMs <= g.toMs);
  const covered = input.changes.filter((c) => c.userSpecificFor === undefined);
  const excluded = input.changes.length - covered.length;

  // Versioned resources (messages, chats): exact keys.
  const eventsByKey = new Map<string, number>();
  const versionsByResource = new Map<string, string[]>();
  const memberEvents = new Map<string, FoundEvent[]>();
  for (const e of input.events) {
    if (e.version === null) {
      append(memberEvents, lower(e.subject), e);
      continue;
    }
    const k = keyOf(e.subject, e.changeType, e.version);
    eventsByKey.set(k, (eventsByKey.get(k) ?? 0) + 1);
    append(versionsByResource, lower(e.subject), e.version);
  }
  const deadKeys = new Set(input.deadLettered.map((d) => keyOf(d.subject, d.changeType, d.version)));
  const deadLoose = new Set(input.deadLettered.map((d) => keyOf(d.subject, d.changeType, null)));

  let delivered = 0;
  let superseded = 0;
  const supersededByKind: Record<string, number> = {};
  let deadLettered = 0;
  let duplicates = 0;
  const lost: RecordedChange[] = [];
  const matchedKeys = new Set<string>();
  const settleMissing = (c: RecordedChange, supersededHere: boolean) => {
    if (supersededHere && inGap(c)) {
      superseded++;
      supersededByKind[c.kind] = (supersededByKind[c.kind] ?? 0) + 1;
    } else if (deadKeys.has(keyOf(c.resource, c.changeType, c.version)) || (c.version === null && deadLoose.has(keyOf(c.resource, c.changeType, null)))) deadLettered++;
    else lost.push(c);
  };

  const members = new Map<string, RecordedChange[]>();
  for (const c of covered) {
    if (c.version === null) {
      append(members, lower(c.resource), c);
      continue;
    }
    const k = keyOf(c.resource, c.changeType, c.version);
    if (eventsByKey.has(k)) {
      delivered++;
      if (!matchedKeys.has(k)) duplicates += (eventsByKey.get(k) ?? 1) - 1;
      matchedKeys.add(k);
      continue;
    }
    const newer = (versionsByResource.get(lower(c.resource)) ?? []).some((v) => later(v, c.version as string));
    settleMissing(c, newer);
  }

  // Members carry no version: each change is matched to a distinct event of the same membership and
  // changeType that the app received or read back after it.
  const chatCreatedMs = new Map(covered.filter((c) => c.kind === 'chat' && lower(c.changeType) === 'created').map((c) => [lower(c.resource), Date.parse(c.version ?? c.at)]));
  const earliestEventMs = earliestEventMsOf(chatCreatedMs);
  for (const [resource, changes] of members) {
    const events = [...(memberEvents.get(resource) ?? [])].sort((a, b) => a.timeMs - b.timeMs);
    const finalType = lower(changes.reduce((a, b) => (b.seq > a.seq ? b : a)).changeType);
    const lastEvent = events[events.length - 1];
    const stateConsistent = lastEvent !== undefined && lower(lastEvent.changeType) === finalType;
    const vanished = vanishedInGap(changes, input.gaps);
    const matched = new Set<RecordedChange>();
    for (const type of new Set(changes.map((c) => lower(c.changeType)))) {
      const pool = events.filter((e) => lower(e.changeType) === type).map((e) => e.timeMs);
      const matchedOfType = matchMembers(
        changes.filter((c) => lower(c.changeType) === type),
        pool,
        vanished,
        earliestEventMs,
      );
      for (const c of matchedOfType) matched.add(c);
      duplicates += pool.length - matchedOfType.size;
    }
    delivered += matched.size;
    // A pair that vanished inside a gap is superseded only when neither of its changes reached downstream.
    const bothMissing = (c: RecordedChange) => vanished.has(c) && !matched.has(vanished.get(c)!);
    // A change the chat's history tells is read back itself: a later state does not stand for it.
    const told = toldByHistory(changes);
    for (const c of [...changes].sort(byTime)) if (!matched.has(c)) settleMissing(c, !told.has(c) && (stateConsistent || bothMissing(c)));
  }

  const ledgerKeys = new Set(covered.filter((c) => c.version !== null).map((c) => keyOf(c.resource, c.changeType, c.version)));
  const memberResources = new Set(members.keys());
  let unmatchedEvents = 0;
  for (const e of input.events) {
    if (e.version === null ? !memberResources.has(lower(e.subject)) : !ledgerKeys.has(keyOf(e.subject, e.changeType, e.version))) unmatchedEvents++;
  }
  return {
    changes: covered.length,
    delivered,
    superseded,
    supersededByKind,
    deadLettered,
    lost: lost.length,
    duplicates,
    excluded,
    unmatchedEvents,
    lostSamples: lost.slice(0, 20),
  };
}
