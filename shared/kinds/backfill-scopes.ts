import { z } from 'zod';
import { CHAT_PERMISSIONS } from './catalog-entry.js';

/**
 * The scopes a backfill piece reads (each one Graph listing, paged), shared by the kinds whose gaps read
 * them back (their `backfill` in teams-kinds.ts), and how each is read: its first page, the chat or channel
 * Teams paces it by, what its page's items are, and what follows it.
 */

const id = z.string().min(1);

/** The schema of a piece's scope (queue messages and recorded pieces hold it: a scope's fields never change). */
export const BACKFILL_SCOPE = z.discriminatedUnion('kind', [
  /** The subscription's whole scope: expanded into the kind's plan's child scopes (users, teams) when it is processed. */
  z.strictObject({ kind: z.literal('plan') }),
  z.strictObject({ kind: z.literal('chatMessages'), chatId: id }),
  z.strictObject({ kind: z.literal('userChatMessages'), userId: id }),
  z.strictObject({ kind: z.literal('teamChannelMessages'), teamId: id }),
  z.strictObject({ kind: z.literal('channelMessages'), teamId: id, channelId: id }),
  z.strictObject({ kind: z.literal('userChats'), userId: id }),
  z.strictObject({ kind: z.literal('chat'), chatId: id }),
  /** A user's chats changed in the window, each then compared as `chatMembers`. */
  z.strictObject({ kind: z.literal('userChatsMembership'), userId: id }),
  /** A chat's members now, against the last known membership. */
  z.strictObject({ kind: z.literal('chatMembers'), chatId: id }),
  /** A chat's membership system event messages in the window; then its members (`chatMembers`). */
  z.strictObject({ kind: z.literal('chatMembershipHistory'), chatId: id }),
  /** The membership system event messages of a user's chats in the window; then its chats (`userChatsMembership`). */
  z.strictObject({ kind: z.literal('userMembershipHistory'), userId: id }),
]);

/** Where one piece of a backfill reads from: one Graph listing, paged. */
export type BackfillScope = Readonly<z.infer<typeof BACKFILL_SCOPE>>;
export type ScopeKind = BackfillScope['kind'];
type ScopeOf<K extends ScopeKind> = Extract<BackfillScope, { kind: K }>;

/** Items per page asked of a listing that takes `$top`. */
export const PAGE_SIZE = 50;

/** What a piece's window and subscription give its first page. */
export interface PageQuery {
  /** The piece's window, widened by the margins (ISO). */
  readonly from: string;
  readonly to: string;
  /** `&model=…` for the export APIs when the subscription names one, else ''. */
  readonly model: string;
}

/** What a scope's page holds: chats or messages (changes as listed), members now, membership history, or other scopes. */
export type ScopeItems = 'chats' | 'messages' | 'membersNow' | 'membershipHistory' | 'scopes';

/**
 * One kind of Graph read a backfill makes: what it reads, in words (`list users`, `a chat's members`), and the
 * application permissions Graph accepts for it, any one of which suffices (least privileged first, Graph's
 * permission tables; those ending in `.Chat`, `.Group` are resource-specific consent).
 */
export interface GraphRead {
  readonly reads: string;
  readonly permissions: readonly string[];
}

/**
 * `GET /users?$select=id`: with application permissions Graph lists users for User.Read.All and above only
 * (User.ReadBasic.All is delegated-only on this API, whatever `$select` asks for).
 */
export const LIST_USERS: GraphRead = { reads: 'list users', permissions: ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'] };
/** `GET /teams?$select=id`. */
export const LIST_TEAMS: GraphRead = { reads: 'list teams', permissions: ['Team.ReadBasic.All', 'TeamSettings.Read.All', 'TeamSettings.ReadWrite.All'] };
/** `GET /chats/{id}` (also read for the creation time of a chat whose first members are looked for). */
export const GET_CHAT: GraphRead = { reads: 'a chat', permissions: ['ChatSettings.Read.Chat', 'Chat.Manage.Chat', ...CHAT_PERMISSIONS] };
/** `GET /chats/{id}/messages` (also its membership history, and the first members' changes). */
export const CHAT_MESSAGES: GraphRead = { reads: "a chat's messages", permissions: ['ChatMessage.Read.Chat', 'Chat.Read.All', 'Chat.ReadWrite.All'] };
const USER_CHATS: GraphRead = { reads: "a user's chats", permissions: CHAT_PERMISSIONS };
const USER_CHAT_MESSAGES: GraphRead = { reads: "a user's chat messages (getAllMessages)", permissions: ['Chat.Read.All', 'Chat.ReadWrite.All'] };
const CHAT_MEMBERS: GraphRead = { reads: "a chat's members", permissions: ['ChatMember.Read.Chat', 'Chat.Manage.Chat', 'ChatMember.Read.All', 'ChatMember.ReadWrite.All', ...CHAT_PERMISSIONS] };

/** How one scope is read. */
export interface ScopeReading<K extends ScopeKind> {
  /** The Graph read its pages are (a `plan`'s is its kind's listing: KindBackfill.plan). */
  readonly read?: GraphRead;
  /** The scopes its pages lead to (a user's chats: each chat's members), read by later pieces. */
  readonly leadsTo?: readonly ScopeKind[];
  /** Its first page (a `plan`'s is its kind's listing). */
  readonly firstPage?: (scope: ScopeOf<K>, query: PageQuery) => string;
  /** The chat or channel Teams rate-limits its reads by (the pacer key), if any. */
  readonly container?: (scope: ScopeOf<K>) => string;
  readonly items: ScopeItems;
  /** The scope read once its listing is done (a history's comparison of members). */
  readonly then?: (scope: ScopeOf<K>) => BackfillScope;
}

const enc = encodeURIComponent;
const inWindow = (q: PageQuery) => `lastModifiedDateTime gt ${q.from} and lastModifiedDateTime lt ${q.to}`;
/** The pacer key of one chat's reads (its pieces' and its GETs'). */
export const chatContainer = (chatId: string) => `chat:${chatId}`;
const chatMessagesPage = (s: { chatId: string }, q: PageQuery) => `/v1.0/chats/${enc(s.chatId)}/messages?$top=${PAGE_SIZE}&$orderby=lastModifiedDateTime desc&$filter=${enc(inWindow(q))}`;
const userChatsPage = (s: { userId: string }) => `/v1.0/users/${enc(s.userId)}/chats?$top=${PAGE_SIZE}`;

export const SCOPE_READINGS: { readonly [K in ScopeKind]: ScopeReading<K> } = {
  plan: { items: 'scopes' },
  chatMessages: { read: CHAT_MESSAGES, firstPage: chatMessagesPage, container: (s) => chatContainer(s.chatId), items: 'messages' },
  userChatMessages: {
    read: USER_CHAT_MESSAGES,
    firstPage: (s, q) => `/v1.0/users/${enc(s.userId)}/chats/getAllMessages?$top=${PAGE_SIZE}&$filter=${enc(inWindow(q))}${q.model}`,
    items: 'messages',
  },
  teamChannelMessages: {
    read: { reads: "a team's channel messages (getAllMessages)", permissions: ['ChannelMessage.Read.All'] },
    firstPage: (s, q) => `/v1.0/teams/${enc(s.teamId)}/channels/getAllMessages?$top=${PAGE_SIZE}&$filter=${enc(inWindow(q))}${q.model}`,
    items: 'messages',
  },
  channelMessages: {
    read: { reads: "a channel's messages (delta)", permissions: ['ChannelMessage.Read.Group', 'ChannelMessage.Read.All'] },
    firstPage: (s, q) => `/v1.0/teams/${enc(s.teamId)}/channels/${enc(s.channelId)}/messages/delta?$filter=${enc(`lastModifiedDateTime gt ${q.from}`)}`,
    container: (s) => `channel:${s.teamId}/${s.channelId}`,
    items: 'messages',
  },
  userChats: { read: USER_CHATS, firstPage: userChatsPage, items: 'chats' },
  chat: { read: GET_CHAT, firstPage: (s) => `/v1.0/chats/${enc(s.chatId)}`, items: 'chats' },
  userChatsMembership: { read: USER_CHATS, leadsTo: ['chatMembers'], firstPage: userChatsPage, items: 'scopes' },
  chatMembers: { read: CHAT_MEMBERS, firstPage: (s) => `/v1.0/chats/${enc(s.chatId)}/members`, container: (s) => chatContainer(s.chatId), items: 'membersNow' },
  chatMembershipHistory: {
    read: CHAT_MESSAGES,
    leadsTo: ['chatMembers'],
    firstPage: chatMessagesPage,
    container: (s) => chatContainer(s.chatId),
    items: 'membershipHistory',
    then: (s) => ({ kind: 'chatMembers', chatId: s.chatId }),
  },
  userMembershipHistory: {
    read: USER_CHAT_MESSAGES,
    leadsTo: ['userChatsMembership'],
    // The export API filters system event messages itself: a user's whole membership history, few pages.
    firstPage: (s, q) => `/v1.0/users/${enc(s.userId)}/chats/getAllMessages?$top=${PAGE_SIZE}&$filter=${enc(`${inWindow(q)} and messageType eq 'systemEventMessage'`)}${q.model}`,
    items: 'membershipHistory',
    then: (s) => ({ kind: 'userChatsMembership', userId: s.userId }),
  },
};

/** How a scope is read (SCOPE_READINGS' entry for its kind). */
export const readingOf = (scope: BackfillScope): ScopeReading<ScopeKind> => SCOPE_READINGS[scope.kind] as ScopeReading<ScopeKind>;
