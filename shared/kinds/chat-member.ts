import { LIST_USERS } from './backfill-scopes.js';
import { catalogEntry, CHAT_PERMISSIONS, ID, INSTALLED_CHAT_PERMISSIONS } from './catalog-entry.js';
import { pathSegment, type TeamsKind } from './teams-kind.js';

const MEMBERS = ['ChatMember.Read.All', 'ChatMember.ReadWrite.All', ...CHAT_PERMISSIONS];
const enc = encodeURIComponent;

/**
 * A chat's member (`chats('…')/members('…')`): added or removed. A membership: the app remembers each chat's
 * members, so that a backfill can tell who left during a gap.
 */
export const chatMember: TeamsKind = {
  defaultQueue: 'teams-chat-members',
  noun: "chat's members",
  membership: true,
  readPath: (ids, v) => `/${v}/chats/${enc(ids.chatId!)}/members/${enc(ids.memberId!)}`,
  parse: ([first, second, third]) =>
    first?.[0] === 'chats' && first[1] && second?.[0] === 'members' && second[1] && !third ? { kind: 'chatMember', chatId: first[1], memberId: second[1] } : undefined,
  catalog: [
    catalogEntry({ pattern: /^\/chats\/getAllMembers$/, changeTypes: ['created', 'deleted'], models: ['A', 'B'], permissions: MEMBERS }),
    catalogEntry({ pattern: new RegExp(`^/chats/${ID}/members$`), changeTypes: ['created', 'deleted'], permissions: ['ChatMember.Read.Chat', 'Chat.Manage.Chat', ...MEMBERS] }),
    catalogEntry({
      pattern: new RegExp(`^/appCatalogs/teamsApps/${ID}/installedToChats/getAllMembers$`),
      changeTypes: ['created', 'deleted', 'updated'],
      models: ['B'],
      permissions: ['ChatMember.Read.WhereInstalled', 'ChatMember.ReadWrite.WhereInstalled', ...INSTALLED_CHAT_PERMISSIONS],
    }),
  ],
  backfill: {
    // A chat's membership history first, then its members now compared with the app's memory of them.
    scopesOf: (path) => {
      if (/^\/chats\/[^/]+\/members$/.test(path)) return { scopes: [{ kind: 'chatMembershipHistory', chatId: pathSegment(path, 2) }] };
      if (path === '/chats/getAllMembers') return { scopes: [{ kind: 'plan' }] };
      return { unsupported: `no read API lists the chats of ${path.split('/').slice(0, 5).join('/')}` };
    },
    plan: { listing: '/v1.0/users?$select=id', read: LIST_USERS, childScope: (userId) => ({ kind: 'userMembershipHistory', userId }) },
  },
};
