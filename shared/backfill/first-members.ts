import type { GapLog, GapReason } from './gap-log.js';
import type { KnownMember } from './membership-log.js';
import { earliestChanges, firstMemberAddition, membershipChangesOf, type MembershipHistoryEntry } from './membership-history.js';

/**
 * A GET of one chat's resource, paced as the chat's other reads: undefined when it is gone, out of reach or
 * refused (404, 403, 400); a 429 or a failure that retries may mend is thrown (the piece is tried again).
 */
export type ChatRead = (chatId: string, path: string) => Promise<Record<string, unknown> | undefined>;

/** A chat's first members as its history and members now tell them: who came with it, and who of them left since. */
export interface ChatFirstMembers {
  /** The chat's creation (ISO): when its first members were added. */
  readonly createdAt: string;
  /** Each first member by user id: the removal that took them out since (their earliest change), or undefined when still there. */
  readonly members: ReadonlyMap<string, MembershipHistoryEntry | undefined>;
}

/** Pages of a chat's messages read to find its membership changes since its creation (a young chat's). */
const MAX_PAGES = 20;
/** Reads kept (see #once), before they are all forgotten and read again. */
const MAX_KEPT_READS = 10_000;
const PAGE_SIZE = 50;
/** Graph's clock may run ahead of ours: "until now" reaches this far ahead (a listing's window needs both ends). */
const NOW_LEAD_MS = 24 * 3600_000;
/** Gaps that say nothing was lost: the daily safety net reads back windows in which notifications flowed. */
const NOT_A_LOSS: ReadonlySet<GapReason> = new Set(['safety_net']);
const enc = encodeURIComponent;

/**
 * Whether the relay already told a member's addition at the chat's creation: remembered present from a
 * notification or a listing (no time), or from a change read back at the creation or before it.
 */
export function additionTold(known: KnownMember | undefined, createdAt: string): boolean {
  if (!known?.present) return false;
  const at = known.resource.lastModifiedDateTime;
  return typeof at !== 'string' || Date.parse(at) <= Date.parse(createdAt);
}

/**
 * A chat's first members come with it and leave no system event message of their addition, so no history
 * read tells it. When the chat was created inside a window the app recorded as a gap of the subscription
 * (other than the safety net's: no notification of those additions may have reached it), they are found from
 * the chat itself: members whose earliest change since the creation is a removal (gone since), and members
 * listed now with no change since (there from the start). Their additions are read back at the chat's
 * creation, unless the relay already told them. Nothing is inferred from a history it cannot read whole.
 */
export class FirstMembers {
  readonly #read: ChatRead;
  readonly #gaps: GapLog;
  readonly #margins: { readonly beforeMs: number; readonly afterMs: number };
  readonly #now: () => number;
  readonly #kept = new Map<string, Promise<unknown>>();

  constructor(options: { read: ChatRead; gaps: GapLog; marginBeforeMs: number; marginAfterMs: number; now: () => number }) {
    this.#read = options.read;
    this.#gaps = options.gaps;
    this.#margins = { beforeMs: options.marginBeforeMs, afterMs: options.marginAfterMs };
    this.#now = options.now;
  }

  /**
   * The additions that the removals among a page of history `entries` imply: for each member whose earliest
   * change in the page is a removal, in a chat created inside a recorded gap, when the chat's messages since
   * its creation show no earlier change of theirs (a page holds part of the history only). One read of each
   * chat's messages, up to its latest such removal. `known`: the relay's memory of the chat's members.
   */
  async additionsBefore(entries: readonly MembershipHistoryEntry[], name: string, known: (chatId: string) => ReadonlyMap<string, KnownMember> | undefined): Promise<MembershipHistoryEntry[]> {
    const byChat = new Map<string, MembershipHistoryEntry[]>();
    for (const e of earliestChanges(entries).values()) if (e.changeType === 'deleted') byChat.set(e.chatId, [...(byChat.get(e.chatId) ?? []), e]);
    if (byChat.size === 0) return [];
    const inGap = await this.#inRecordedGap(name);
    const out: MembershipHistoryEntry[] = [];
    for (const [chatId, removals] of byChat) {
      const createdAt = await this.#createdAt(chatId);
      if (createdAt === undefined || !inGap(Date.parse(createdAt))) continue;
      const candidates = removals.filter((r) => Date.parse(r.at) >= Date.parse(createdAt) && !additionTold(known(chatId)?.get(r.userId), createdAt));
      if (candidates.length === 0) continue;
      const latest = Math.max(...candidates.map((r) => Date.parse(r.at)));
      const since = await this.#changesOf(chatId, Date.parse(createdAt), latest);
      if (since === undefined) continue;
      for (const removal of candidates) {
        const earliest = earliestChanges(since.filter((e) => e.userId === removal.userId && Date.parse(e.at) <= Date.parse(removal.at)))
          .values()
          .next().value;
        if (earliest === undefined || earliest.changeType === 'deleted') out.push(firstMemberAddition(removal, createdAt));
      }
    }
    return out;
  }

  /**
   * The first members of a chat created inside a recorded gap, `listed` its members now (user ids); undefined
   * for a chat created at any other time, or whose messages since its creation cannot all be read.
   */
  async ofChat(chatId: string, listed: ReadonlySet<string>, name: string): Promise<ChatFirstMembers | undefined> {
    const createdAt = await this.#createdAt(chatId);
    if (createdAt === undefined || !(await this.#inRecordedGap(name))(Date.parse(createdAt))) return undefined;
    const since = await this.#changesOf(chatId, Date.parse(createdAt), this.#now() + NOW_LEAD_MS);
    if (since === undefined) return undefined;
    const earliest = new Map([...earliestChanges(since).values()].map((e) => [e.userId, e]));
    const members = new Map<string, MembershipHistoryEntry | undefined>();
    for (const userId of listed) if (!earliest.has(userId)) members.set(userId, undefined);
    // Gone since (and maybe back: then the listing holds their later addition, not the first).
    for (const e of earliest.values()) if (e.changeType === 'deleted') members.set(e.userId, e);
    return { createdAt, members };
  }

  /** Whether a time (ms) lies inside a window recorded as a gap of `name` that may have lost notifications, widened as its pieces read it. */
  async #inRecordedGap(name: string): Promise<(ms: number) => boolean> {
    const windows = (await this.#gaps.list({ name }))
      .filter((g) => !NOT_A_LOSS.has(g.reason))
      .map((g) => ({ from: Date.parse(g.from) - this.#margins.beforeMs, to: Date.parse(g.to) + this.#margins.afterMs }));
    return (ms) => windows.some((w) => ms >= w.from && ms <= w.to);
  }

  /** When a chat was created (ISO), or undefined when it cannot be read. */
  async #createdAt(chatId: string): Promise<string | undefined> {
    return this.#once(`created\n${chatId}`, async () => {
      const chat = await this.#read(chatId, `/v1.0/chats/${enc(chatId)}`);
      return typeof chat?.createdDateTime === 'string' ? chat.createdDateTime : undefined;
    });
  }

  /** The membership changes in a chat's messages within `[from, to]` (ms); undefined when unreadable or longer than MAX_PAGES. */
  async #changesOf(chatId: string, from: number, to: number): Promise<MembershipHistoryEntry[] | undefined> {
    const filter = `lastModifiedDateTime gt ${new Date(from - 1).toISOString()} and lastModifiedDateTime lt ${new Date(to + 1).toISOString()}`;
    let next: string | undefined = `/v1.0/chats/${enc(chatId)}/messages?$top=${PAGE_SIZE}&$orderby=lastModifiedDateTime desc&$filter=${enc(filter)}`;
    const out: MembershipHistoryEntry[] = [];
    for (let pages = 0; next !== undefined; pages++) {
      if (pages === MAX_PAGES) return undefined;
      const page = await this.#read(chatId, next);
      if (!page) return undefined;
      const items = Array.isArray(page.value) ? (page.value as Record<string, unknown>[]) : [];
      out.push(...items.flatMap((m) => membershipChangesOf(m, { from, to })).filter((e) => e.chatId === chatId));
      next = typeof page['@odata.nextLink'] === 'string' ? page['@odata.nextLink'] : undefined;
    }
    return out;
  }

  /**
   * A read whose answer cannot change once given (a chat's creation), shared by every caller in this process
   * (those at the same time too), so that every user's listing of the same chat does not read it again. A
   * read that failed or found nothing is not kept: the next caller reads again.
   */
  async #once<T>(key: string, read: () => Promise<T | undefined>): Promise<T | undefined> {
    const kept = this.#kept.get(key) as Promise<T | undefined> | undefined;
    if (kept) return kept;
    if (this.#kept.size >= MAX_KEPT_READS) this.#kept.clear();
    const reading = read();
    this.#kept.set(key, reading);
    const value = await reading.catch((e: unknown) => {
      this.#kept.delete(key);
      throw e;
    });
    if (value === undefined) this.#kept.delete(key);
    return value;
  }
}
