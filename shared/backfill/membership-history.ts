/**
 * Membership changes as a chat's history keeps them: every member added to or removed from a chat leaves a
 * system event message (`messageType` `systemEventMessage`) whose `eventDetail` names the members, the
 * initiator and, for an addition, `visibleHistoryStartDateTime`; the message's `createdDateTime` is the
 * change's time (learn.microsoft.com/graph/system-messages, /api/resources/membersaddedeventmessagedetail).
 * Graph lists no removed member, so for a backfill this is the only record of a member added and removed
 * inside a gap.
 */
export interface MembershipHistoryEntry {
  readonly chatId: string;
  readonly userId: string;
  readonly changeType: 'created' | 'deleted';
  /** The change's own time: the system message's `createdDateTime` (ISO). */
  readonly at: string;
  readonly displayName: string | null;
  /** The member's tenant, when the event names it. */
  readonly tenantId?: string;
  /** For an addition: how far back the chat's history is shared with the member. */
  readonly visibleHistoryStartDateTime?: string;
}

/** The event details that change a chat's membership (`membersJoined`/`Left`: meeting chats), as changeTypes. */
const MEMBERSHIP_DETAILS: Readonly<Record<string, 'created' | 'deleted'>> = {
  '#microsoft.graph.membersaddedeventmessagedetail': 'created',
  '#microsoft.graph.membersjoinedeventmessagedetail': 'created',
  '#microsoft.graph.membersdeletedeventmessagedetail': 'deleted',
  '#microsoft.graph.memberslefteventmessagedetail': 'deleted',
};

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * The membership changes one listed message records, when it is a chat's membership system event made
 * within `[from, to]` (ms): one per member it names. Told by its `eventDetail` type, so the message is
 * recognised whether `messageType` says `systemEventMessage` or, without `Prefer: include-unknown-enum-members`,
 * `unknownFutureValue`. A channel's system messages are not a chat's membership and yield nothing.
 */
export function membershipChangesOf(message: Record<string, unknown>, window: { from: number; to: number }): MembershipHistoryEntry[] {
  const chatId = str(message.chatId);
  const at = str(message.createdDateTime);
  const detail = message.eventDetail as Record<string, unknown> | null | undefined;
  const changeType = MEMBERSHIP_DETAILS[(str(detail?.['@odata.type']) ?? '').toLowerCase()];
  if (!chatId || !at || !changeType || !Array.isArray(detail?.members) || str(message.deletedDateTime)) return [];
  const ms = Date.parse(at);
  if (!(ms >= window.from && ms <= window.to)) return [];
  const visible = changeType === 'created' ? str(detail.visibleHistoryStartDateTime) : undefined;
  return (detail.members as Record<string, unknown>[]).flatMap((m) => {
    const userId = str(m.id);
    if (!userId) return [];
    const tenantId = str(m.tenantId);
    return [
      {
        chatId,
        userId,
        changeType,
        at: new Date(ms).toISOString(),
        displayName: str(m.displayName) ?? null,
        ...(tenantId ? { tenantId } : {}),
        ...(visible ? { visibleHistoryStartDateTime: visible } : {}),
      },
    ];
  });
}

/**
 * A chat membership id formed as Graph's visibly are (`MCMj…`): base64 of `0##2##{tenantId}##{chatId}##{userId}`.
 * Used only for a member the app never saw: Graph's ids are opaque and its examples vary the leading fields,
 * so a formed id may differ from the one Graph gave (docs/events.md).
 */
export const formedMembershipId = (tenantId: string, chatId: string, userId: string) => Buffer.from(`0##2##${tenantId}##${chatId}##${userId}`).toString('base64');

/** Each member's earliest membership change among `entries`, by chat and user (`${chatId}\n${userId}`). */
export function earliestChanges(entries: readonly MembershipHistoryEntry[]): Map<string, MembershipHistoryEntry> {
  const first = new Map<string, MembershipHistoryEntry>();
  for (const e of entries) {
    const key = `${e.chatId}\n${e.userId}`;
    const seen = first.get(key);
    if (!seen || Date.parse(e.at) < Date.parse(seen.at)) first.set(key, e);
  }
  return first;
}

/**
 * The addition a first member's removal implies: a chat's first members come with it and leave no system
 * message of their addition, so a member whose earliest change since the chat's creation is a removal was
 * added at the creation (`chatCreatedAt`, ISO). The caller makes sure that the removal is that earliest change.
 */
export function firstMemberAddition(removal: MembershipHistoryEntry, chatCreatedAt: string): MembershipHistoryEntry {
  return {
    chatId: removal.chatId,
    userId: removal.userId,
    changeType: 'created',
    at: new Date(Date.parse(chatCreatedAt)).toISOString(),
    displayName: removal.displayName,
    ...(removal.tenantId ? { tenantId: removal.tenantId } : {}),
  };
}
