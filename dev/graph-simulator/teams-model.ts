import { randomBytes } from 'node:crypto';

/** The Teams directory the simulator keeps in memory, and the Graph JSON of each entity. */

export interface SimUser {
  readonly id: string;
  readonly displayName: string;
  readonly email: string;
}

export interface SimMember {
  readonly id: string;
  readonly userId: string;
  readonly roles: string[];
  readonly addedDateTime: string;
  /** The member's home tenant when it is not the chat's (a guest in a cross-tenant chat). */
  readonly tenantId?: string;
}

/** A membership change recorded in the chat as a system event message. */
export interface SimMembershipEvent {
  readonly kind: 'membersAdded' | 'membersDeleted';
  readonly initiatorUserId: string;
  readonly userIds: readonly string[];
}

export interface SimMessage {
  readonly id: string;
  readonly replyToId: string | null;
  /** The author; null for system event messages. */
  readonly fromUserId: string | null;
  readonly createdDateTime: string;
  /** Set on system event messages (membership history). */
  readonly event?: SimMembershipEvent;
  /** The sequence numbers of the message's changes in the read index, ascending (see message-index.ts). */
  readonly changeSeqs: number[];
  lastModifiedDateTime: string;
  lastEditedDateTime: string | null;
  deletedDateTime: string | null;
  body: { contentType: 'text' | 'html'; content: string };
  mentions: { id: number; mentionText: string; userId: string }[];
  /** Reactions, as `chatMessageReaction` entries; adding one changes the message (`updated`, lastModifiedDateTime). */
  readonly reactions: { reactionType: string; userId: string; createdDateTime: string }[];
  readonly location: { kind: 'chat'; chatId: string } | { kind: 'channel'; teamId: string; channelId: string };
}

export interface SimChat {
  readonly id: string;
  readonly chatType: 'oneOnOne' | 'group' | 'meeting';
  topic: string | null;
  readonly createdDateTime: string;
  lastUpdatedDateTime: string;
  readonly tenantId: string;
  readonly members: Map<string, SimMember>;
  readonly messages: Map<string, SimMessage>;
  readonly hiddenFor: Set<string>;
  readonly installedApps: Set<string>;
}

export interface SimChannel {
  readonly id: string;
  readonly displayName: string;
  readonly messages: Map<string, SimMessage>;
}

export interface SimTeam {
  readonly id: string;
  readonly displayName: string;
  readonly tenantId: string;
  readonly channels: Map<string, SimChannel>;
}

/** The tenants a chat is seen in: its own, and the home tenant of every member (a cross-tenant chat's guests). */
export const tenantsOfChat = (chat: SimChat): Set<string> => new Set([chat.tenantId, ...[...chat.members.values()].map((m) => m.tenantId ?? chat.tenantId)]);

export const newChatId = () => `19:${randomBytes(16).toString('hex')}@thread.v2`;
export const newChannelId = () => `19:${randomBytes(16).toString('hex')}@thread.tacv2`;
/**
 * A chat membership id as Graph writes them (`MCMjMiMj…`): standard base64, padding kept, of
 * `0##2##{tenantId}##{chatId}##{userId}`. It can hold `+`, `/` and `=`, which a client must keep as they are.
 */
export const memberId = (chatId: string, userId: string, tenantId: string) => Buffer.from(`0##2##${tenantId}##${chatId}##${userId}`).toString('base64');

/**
 * A date-time as Graph writes some of them in notifications: seven fractional digits and a UTC offset
 * (`2026-11-23T00:42:18.1230000-08:00`), the same instant as `ms`.
 */
export function graphDateTime(ms: number, offsetMinutes = -8 * 60): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString(); // the wall clock at that offset, as if UTC
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local.slice(0, 23)}0000${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

export function userIdentity(user: SimUser | undefined, userId: string, tenantId: string): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.teamworkUserIdentity',
    id: userId,
    displayName: user?.displayName ?? null,
    userIdentityType: 'aadUser',
    tenantId,
  };
}

/** A chat as GET /chats/{id} returns it; with `viewer`, as that user sees it (viewpoint). */
export function chatJson(chat: SimChat, viewer?: string): Record<string, unknown> {
  const json: Record<string, unknown> = {
    id: chat.id,
    topic: chat.topic,
    createdDateTime: chat.createdDateTime,
    lastUpdatedDateTime: chat.lastUpdatedDateTime,
    chatType: chat.chatType,
    webUrl: `https://teams.microsoft.com/l/chat/${encodeURIComponent(chat.id)}/0?tenantId=${chat.tenantId}`,
    tenantId: chat.tenantId,
    onlineMeetingInfo: null,
    isHiddenForAllMembers: false,
  };
  if (viewer) json.viewpoint = { isHidden: chat.hiddenFor.has(viewer), lastMessageReadDateTime: chat.lastUpdatedDateTime };
  return json;
}

export function memberJson(member: SimMember, user: SimUser | undefined, tenantId: string): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.aadUserConversationMember',
    id: member.id,
    roles: member.roles,
    displayName: user?.displayName ?? null,
    visibleHistoryStartDateTime: '0001-01-01T00:00:00Z',
    userId: member.userId,
    email: user?.email ?? null,
    tenantId: member.tenantId ?? tenantId,
  };
}

const EVENT_DETAIL_TYPES = {
  membersAdded: '#microsoft.graph.membersAddedEventMessageDetail',
  membersDeleted: '#microsoft.graph.membersDeletedEventMessageDetail',
} as const;

function eventDetailJson(event: SimMembershipEvent, users: ReadonlyMap<string, SimUser>, tenantId: string): Record<string, unknown> {
  return {
    '@odata.type': EVENT_DETAIL_TYPES[event.kind],
    ...(event.kind === 'membersAdded' ? { visibleHistoryStartDateTime: '0001-01-01T00:00:00Z' } : {}),
    members: event.userIds.map((id) => ({ id, displayName: users.get(id)?.displayName ?? null, userIdentityType: 'aadUser', tenantId })),
    initiator: { application: null, device: null, user: userIdentity(users.get(event.initiatorUserId), event.initiatorUserId, tenantId) },
  };
}

export interface MessageJsonOptions {
  /**
   * `Prefer: include-unknown-enum-members` was sent: system event messages say `systemEventMessage`; without
   * it Graph writes the evolvable enum's sentinel `unknownFutureValue`.
   */
  readonly includeUnknownEnumMembers?: boolean;
}

export function messageJson(message: SimMessage, users: ReadonlyMap<string, SimUser>, tenantId: string, options: MessageJsonOptions = {}): Record<string, unknown> {
  const loc = message.location;
  const event = message.event;
  return {
    id: message.id,
    replyToId: message.replyToId,
    etag: String(Date.parse(message.lastModifiedDateTime)),
    messageType: event ? (options.includeUnknownEnumMembers ? 'systemEventMessage' : 'unknownFutureValue') : 'message',
    createdDateTime: message.createdDateTime,
    lastModifiedDateTime: message.lastModifiedDateTime,
    lastEditedDateTime: message.lastEditedDateTime,
    deletedDateTime: message.deletedDateTime,
    subject: null,
    summary: null,
    chatId: loc.kind === 'chat' ? loc.chatId : null,
    importance: 'normal',
    locale: 'en-us',
    webUrl: null,
    channelIdentity: loc.kind === 'channel' ? { teamId: loc.teamId, channelId: loc.channelId } : null,
    onBehalfOf: null,
    policyViolation: null,
    eventDetail: event ? eventDetailJson(event, users, tenantId) : null,
    from: message.fromUserId === null ? null : { application: null, device: null, user: userIdentity(users.get(message.fromUserId), message.fromUserId, tenantId) },
    body: message.deletedDateTime ? { contentType: 'text', content: '' } : message.body,
    attachments: [],
    mentions: message.mentions.map((m) => ({
      id: m.id,
      mentionText: m.mentionText,
      mentioned: { application: null, device: null, conversation: null, tag: null, user: userIdentity(users.get(m.userId), m.userId, tenantId) },
    })),
    reactions: message.reactions.map((r) => ({
      reactionType: r.reactionType,
      displayName: null,
      createdDateTime: r.createdDateTime,
      user: { application: null, device: null, user: userIdentity(users.get(r.userId), r.userId, tenantId) },
    })),
  };
}

/**
 * A chat as a notification with resource data carries it: the GET shape plus `members` and the
 * `lastMessagePreview` (as Graph's chat notification examples show).
 */
export function chatNotificationJson(chat: SimChat, users: ReadonlyMap<string, SimUser>, viewer?: string): Record<string, unknown> {
  const last = [...chat.messages.values()].filter((m) => !m.replyToId).at(-1);
  return {
    ...chatJson(chat, viewer),
    members: [...chat.members.values()].map((m) => memberJson(m, users.get(m.userId), chat.tenantId)),
    lastMessagePreview: last
      ? {
          id: last.id,
          createdDateTime: last.createdDateTime,
          isDeleted: last.deletedDateTime !== null,
          messageType: last.event ? 'systemEventMessage' : 'message',
          eventDetail: null,
          body: last.deletedDateTime ? { contentType: 'text', content: '' } : last.body,
          from: last.fromUserId === null ? null : { application: null, device: null, user: userIdentity(users.get(last.fromUserId), last.fromUserId, chat.tenantId) },
        }
      : null,
  };
}

/** The text of a message body, tags removed, for `$search`. */
export function plainText(body: SimMessage['body']): string {
  return body.contentType === 'html' ? body.content.replace(/<[^>]*>/g, ' ') : body.content;
}
