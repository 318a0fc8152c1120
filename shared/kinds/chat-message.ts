import { LIST_USERS } from './backfill-scopes.js';
import { catalogEntry, ID } from './catalog-entry.js';
import { pathSegment, type TeamsKind } from './teams-kind.js';

const MESSAGES = ['Chat.Read.All', 'Chat.ReadWrite.All'];
const enc = encodeURIComponent;

/** A chat's message or reply (`chats('…')/messages('…')`, `…/replies('…')`): sent, edited, deleted. */
export const chatMessage: TeamsKind = {
  defaultQueue: 'teams-chat-messages',
  noun: "chat's or channel's messages",
  membership: false,
  readPath: (ids, v) => `/${v}/chats/${enc(ids.chatId!)}/messages/${enc(ids.messageId!)}`,
  parse: ([first, second, third, fourth]) => {
    if (first?.[0] !== 'chats' || !first[1] || second?.[0] !== 'messages' || !second[1]) return undefined;
    if (!third) return { kind: 'chatMessage', chatId: first[1], messageId: second[1] };
    if (third[0] === 'replies' && third[1] && !fourth) return { kind: 'chatMessage', chatId: first[1], messageId: third[1], parentMessageId: second[1] };
    return undefined;
  },
  catalog: [
    catalogEntry({ pattern: /^\/chats\/getAllMessages$/, changeTypes: ['created', 'updated', 'deleted'], models: ['A', 'B'], queryOptions: ['$search'], permissions: MESSAGES, protectedApi: true }),
    catalogEntry({
      pattern: new RegExp(`^/chats/${ID}/messages$`),
      changeTypes: ['created', 'updated', 'deleted'],
      queryOptions: ['$search', '$filter'],
      permissions: ['ChatMessage.Read.Chat', ...MESSAGES],
      protectedApi: true,
    }),
    catalogEntry({
      pattern: new RegExp(`^/users/${ID}/chats/getAllMessages$`),
      changeTypes: ['created', 'updated', 'deleted'],
      betaOnly: true,
      models: ['B'],
      queryOptions: ['$search'],
      permissions: MESSAGES,
      protectedApi: true,
    }),
    catalogEntry({
      pattern: new RegExp(`^/appCatalogs/teamsApps/${ID}/installedToChats/getAllMessages$`),
      changeTypes: ['created', 'updated', 'deleted'],
      models: ['B'],
      permissions: ['Chat.Read.WhereInstalled', 'Chat.ReadWrite.WhereInstalled'],
      protectedApi: true,
    }),
  ],
  backfill: {
    scopesOf: (path) => {
      if (/^\/chats\/[^/]+\/messages$/.test(path)) return { scopes: [{ kind: 'chatMessages', chatId: pathSegment(path, 2) }] };
      if (/^\/users\/[^/]+\/chats\/getAllMessages$/.test(path)) return { scopes: [{ kind: 'userChatMessages', userId: pathSegment(path, 2) }] };
      if (path === '/chats/getAllMessages') return { scopes: [{ kind: 'plan' }] };
      return { unsupported: `no read API lists the messages of ${path}` };
    },
    plan: { listing: '/v1.0/users?$select=id', read: LIST_USERS, childScope: (userId) => ({ kind: 'userChatMessages', userId }) },
  },
};
