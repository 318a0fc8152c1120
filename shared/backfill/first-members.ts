import type { GapLog } from './gap-log.js';
import { earliestChanges, firstMemberAddition, membershipChangesOf, type MembershipHistoryEntry } from './membership-history.js';

/** A GET of one chat's resource, paced as the chat's other reads; undefined when it is gone or out of reach. */
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
/** Facts read from Graph that a process keeps (see #remembered), before it forgets them all and starts again. */
const MAX_REMEMBERED_FACTS = 10_000;
const PAGE_SIZE = 50;
/** Graph's clock may run ahead of ours: "until now" reaches this far ahead (a listing's window needs both ends). */
const NOW_LEAD_MS = 24 * 3600_000;
const enc = encodeURIComponent;

/**
 * A chat's first members come with it and leave no system event message of their addition, so no history
 * read tells it. When the chat was created inside a window the app recorded as a gap of the subscription (no
 * notification of those additions can have reached it), they are found from the chat itself: members whose
 * earliest change since the creation is a removal (gone since), and members listed now with no change since
 * (there from the start). Their additions are read back at the chat's creation.
 */
export class FirstMembers {
  readonly #read: ChatRead;
  readonly #gaps: GapLog;
  readonly #margins: { readonly beforeMs: number; readonly afterMs: number };
  readonly #now: () => number;
  readonly #facts = new Map<string, unknown>();

  constructor(options: { read: ChatRead; gaps: GapLog; marginBeforeMs: number; marginAfterMs: number; now: () => number }) {
    this.#read = options.read;
    this.#gaps = options.gaps;
    this.#margins = { beforeMs: options.marginBeforeMs, afterMs: options.marginAfterMs };
    this.#now = options.now;
  }

  /**
   * The additions that the removals among a page of history `entries` imply: for each member whose earliest
   * change in the page is a removal, in a chat created inside a recorded gap, when the chat's messages show
   * no earlier change of theirs since the creation (a page holds part of the history only).
   */
  async additionsBefore(entries: readonly MembershipHistoryEntry[], window: { from: number; to: number }, name: string): Promise<MembershipHistoryEntry[]> {
    const removals = [...earliestChanges(entries).values()].filter((e) => e.changeType === 'deleted');
    const out: MembershipHistoryEntry[] = [];
    for (const removal of removals) {
      const createdAt = await this.#createdInGap(removal.chatId, window, name);
      if (createdAt === undefined || Date.parse(createdAt) > Date.parse(removal.at)) continue;
      const key = `first\n${removal.chatId}\n${removal.userId}\n${removal.at}`;
      const firstWasRemoval = await this.#remembered(key, async () => {
        const since = await this.#changesOf(removal.chatId, Date.parse(createdAt), Date.parse(removal.at));
        const earliest =
          since &&
          earliestChanges(since.filter((e) => e.userId === removal.userId))
            .values()
            .next().value;
        // Unreadable, the removal stands for itself: the addition is then read back, maybe a duplicate.
        return earliest === undefined || earliest.changeType === 'deleted';
      });
      if (firstWasRemoval) out.push(firstMemberAddition(removal, createdAt));
    }
    return out;
  }

  /**
   * The first members of a chat created inside a recorded gap, `listed` its members now (user ids); undefined
   * for a chat created at any other time, or whose messages since its creation cannot all be read.
   */
  async ofChat(chatId: string, listed: ReadonlySet<string>, window: { from: number; to: number }, name: string): Promise<ChatFirstMembers | undefined> {
    const createdAt = await this.#createdInGap(chatId, window, name);
    if (createdAt === undefined) return undefined;
    const since = await this.#changesOf(chatId, Date.parse(createdAt), this.#now() + NOW_LEAD_MS);
    if (since === undefined) return undefined;
    const earliest = new Map([...earliestChanges(since).values()].map((e) => [e.userId, e]));
    const members = new Map<string, MembershipHistoryEntry | undefined>();
    for (const userId of listed) if (!earliest.has(userId)) members.set(userId, undefined);
    for (const e of earliest.values()) if (e.changeType === 'deleted') members.set(e.userId, e);
    return { createdAt, members };
  }

  /** The chat's creation (ISO) when it lies inside `window` or a window recorded as a gap of `name` (widened as read). */
  async #createdInGap(chatId: string, window: { from: number; to: number }, name: string): Promise<string | undefined> {
    const createdAt = await this.#remembered(`created\n${chatId}`, async () => {
      const chat = await this.#read(chatId, `/v1.0/chats/${enc(chatId)}?$select=id,createdDateTime`);
      return typeof chat?.createdDateTime === 'string' ? chat.createdDateTime : undefined;
    });
    if (createdAt === undefined) return undefined;
    const ms = Date.parse(createdAt);
    const inside = (w: { from: number; to: number }) => ms >= w.from && ms <= w.to;
    if (inside(window)) return createdAt;
    const gaps = await this.#gaps.list({ name });
    return gaps.some((g) => inside({ from: Date.parse(g.from) - this.#margins.beforeMs, to: Date.parse(g.to) + this.#margins.afterMs })) ? createdAt : undefined;
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
   * What a read of Graph said that cannot change (a chat's creation, a member's earliest change before a given
   * removal), kept so that every user's listing of the same chat does not read it again.
   */
  async #remembered<T>(key: string, read: () => Promise<T>): Promise<T> {
    if (this.#facts.has(key)) return this.#facts.get(key) as T;
    const value = await read();
    if (this.#facts.size >= MAX_REMEMBERED_FACTS) this.#facts.clear();
    this.#facts.set(key, value);
    return value;
  }
}
