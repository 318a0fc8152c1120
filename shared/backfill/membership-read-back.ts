import type { DesiredSubscription } from '../subscriptions/desired-subscriptions.js';
import { additionTold, type FirstMembers } from './first-members.js';
import { firstMemberAddition, formedMembershipId, membershipChangesOf } from './membership-history.js';
import type { KnownMember, MembershipLog } from './membership-log.js';
import { changeFromMember, changeFromMembershipHistory, type ReadBackChange } from './read-back-change.js';

/** The membership changes a page tells, and how to bring the memory of the chats' members up to date once they are routed. */
export interface MembershipChanges {
  readonly changes: ReadBackChange[];
  /** Run once every change is routed: remembered before, a crash in between would hide them from the retry. */
  remember(): Promise<void>;
}

/**
 * A chat's membership changes as a backfill reads them back: from its members now, compared with the
 * relay's memory of them (MembershipLog), and from the system event messages of its history; a chat created
 * inside a recorded gap has its first members' additions told too (FirstMembers).
 */
export class MembershipReadBack {
  readonly #memberships: MembershipLog;
  readonly #firstMembers: FirstMembers;
  readonly #tenantId: string;

  constructor(options: { memberships: MembershipLog; firstMembers: FirstMembers; tenantId: string }) {
    this.#memberships = options.memberships;
    this.#firstMembers = options.firstMembers;
    this.#tenantId = options.tenantId;
  }

  /**
   * A chat's members now against its last known membership: who is new (`created`, the listed resource)
   * and who is gone (`deleted`, the remembered resource with its membership id). The memory is brought up
   * to date by `remember`, which the caller runs once the changes are routed. It runs after the chat's
   * history was read (what history told is remembered by then): the safety net for what history cannot say.
   * A chat created inside a recorded gap also has its first members' additions read back at its creation
   * (FirstMembers): those there from the start as they are listed, and those who left since from their removal.
   */
  async ofMembers(chatId: string, members: Record<string, unknown>[], desired: DesiredSubscription, subscriptionId: string): Promise<MembershipChanges> {
    const known = await this.#memberships.known(this.#tenantId, chatId);
    const out: ReadBackChange[] = [];
    const updates: Parameters<MembershipLog['remember']>[2][] = [];
    const listed = new Set(members.flatMap((m) => (typeof m.userId === 'string' && typeof m.id === 'string' ? [m.userId] : [])));
    const first = desired.changeTypes.includes('created') ? await this.#firstMembers.ofChat(chatId, listed, desired.name) : undefined;
    for (const m of members) {
      const userId = typeof m.userId === 'string' ? m.userId : undefined;
      const membershipId = typeof m.id === 'string' ? m.id : undefined;
      if (!userId || !membershipId || known.get(userId)?.present) continue;
      // There since the chat's creation: added then, one event however often it is read.
      const fromStart = first !== undefined && first.members.has(userId) && first.members.get(userId) === undefined;
      const resource = fromStart ? { ...m, lastModifiedDateTime: first.createdAt } : m;
      out.push(changeFromMember(chatId, membershipId, resource, 'created', subscriptionId, this.#tenantId));
      updates.push({ userId, membershipId, resource, present: true });
    }
    for (const k of known.values()) {
      if (!k.present || listed.has(k.userId)) continue;
      // When it went is unknown here: not the time of the change that was remembered (history's addition).
      const { lastModifiedDateTime: _changedAt, ...resource } = k.resource;
      out.push(changeFromMember(chatId, k.membershipId, resource, 'deleted', subscriptionId, this.#tenantId));
      updates.push({ ...k, present: false });
    }
    // Gone since (their removal read back or notified on its own): the addition alone, not remembered (not their last state).
    for (const removal of first?.members.values() ?? []) {
      if (removal === undefined || additionTold(known.get(removal.userId), first!.createdAt)) continue;
      const membershipId = known.get(removal.userId)?.membershipId ?? formedMembershipId(this.#tenantId, chatId, removal.userId);
      out.push(changeFromMembershipHistory(firstMemberAddition(removal, first!.createdAt), membershipId, subscriptionId, this.#tenantId));
    }
    const remember = async () => {
      for (const update of updates) await this.#memberships.remember(this.#tenantId, chatId, update);
    };
    return { changes: out, remember };
  }

  /**
   * The membership changes a page of a chat's history holds (system event messages in the window), oldest
   * first, each with the member's remembered membership id or, for a member the app never saw, a formed one.
   * A chat's first members leave no system message of their addition: one whose earliest change since the
   * chat's creation is a removal, in a chat created inside a window recorded as a gap of this subscription
   * (no notification of that addition can have reached the app), has the addition it implies read back too,
   * at the chat's creation.
   */
  async ofHistory(messages: Record<string, unknown>[], window: { from: number; to: number }, desired: DesiredSubscription, subscriptionId: string): Promise<MembershipChanges> {
    const read = messages.flatMap((m) => membershipChangesOf(m, window));
    const known = new Map<string, Map<string, KnownMember>>();
    for (const chatId of new Set(read.map((e) => e.chatId))) known.set(chatId, await this.#memberships.known(this.#tenantId, chatId));
    const inferred = desired.changeTypes.includes('created') ? await this.#firstMembers.additionsBefore(read, desired.name, (chatId) => known.get(chatId)) : [];
    const entries = [...read, ...inferred].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    const changes: ReadBackChange[] = [];
    const updates: [string, KnownMember][] = [];
    for (const entry of entries) {
      const membershipId = known.get(entry.chatId)?.get(entry.userId)?.membershipId ?? formedMembershipId(this.#tenantId, entry.chatId, entry.userId);
      const change = changeFromMembershipHistory(entry, membershipId, subscriptionId, this.#tenantId);
      changes.push(change);
      updates.push([entry.chatId, { userId: entry.userId, membershipId, resource: change.resource, present: entry.changeType === 'created' }]);
    }
    // In time order; the log keeps a later history change over an earlier one remembered after it.
    const remember = async () => {
      for (const [chatId, member] of updates) await this.#memberships.remember(this.#tenantId, chatId, member);
    };
    return { changes, remember };
  }
}
