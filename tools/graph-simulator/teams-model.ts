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
}

export interface SimMessage {
  readonly id: string;
  readonly replyToId: string | null;
  readonly fromUserId: string;
  readonly createdDateTime: string;
  lastModifiedDateTime: string;
  lastEditedDateTime: string | null;
  deletedDateTime: string | null;
  body: { contentType: 'text' | 'html'; content: string };
  mentions: { id: number; mentionText: string; userId: string }[];
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

export const newChatId = () => `19:${randomBytes(16).toString('hex')}@thread.v2`;
export const newChannelId = () => `19:${randomBytes(16).toString('hex')}@thread.tacv2`;
export const memberId = (chatId: string, userId: string, tenantId: string) =>
  Buffer.from(`1#${tenantId}#${chatId}#${userId}`).toString('base64').replace(/=+$/, '');

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
    tenantId,
  };
}

export function messageJson(message: SimMessage, users: ReadonlyMap<string, SimUser>, tenantId: string): Record<string, unknown> {
  const loc = message.location;
  return {
    id: message.id,
    replyToId: message.replyToId,
    etag: String(Date.parse(message.lastModifiedDateTime)),
    messageType: 'message',
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
    policyViolation: null,
    eventDetail: null,
    from: { application: null, device: null, user: userIdentity(users.get(message.fromUserId), message.fromUserId, tenantId) },
    body: message.deletedDateTime ? { contentType: 'text', content: '' } : message.body,
    attachments: [],
    mentions: message.mentions.map((m) => ({
      id: m.id,
      mentionText: m.mentionText,
      mentioned: { application: null, device: null, conversation: null, tag: null, user: userIdentity(users.get(m.userId), m.userId, tenantId) },
    })),
    reactions: [],
  };
}

/** The text of a message body, tags removed, for `$search`. */
export function plainText(body: SimMessage['body']): string {
  return body.contentType === 'html' ? body.content.replace(/<[^>]*>/g, ' ') : body.content;
}
