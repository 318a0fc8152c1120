import { LIST_USERS } from './backfill-scopes.js';
import { catalogEntry, CHAT_PERMISSIONS, ID, INSTALLED_CHAT_PERMISSIONS } from './catalog-entry.js';
import { pathSegment, type TeamsKind } from './teams-kind.js';

/** A chat (`chats('…')`): created, renamed, its settings changed. */
export const chat: TeamsKind = {
  defaultQueue: 'teams-chats',
  noun: 'chat',
  membership: false,
  readPath: (ids, v) => `/${v}/chats/${encodeURIComponent(ids.chatId!)}`,
  parse: ([first, second]) => (first?.[0] === 'chats' && first[1] && !second ? { kind: 'chat', chatId: first[1] } : undefined),
  catalog: [
    catalogEntry({ pattern: /^\/chats$/, changeTypes: ['created', 'updated'], permissions: CHAT_PERMISSIONS }),
    catalogEntry({
      pattern: new RegExp(`^/chats/${ID}$`),
      changeTypes: ['created', 'updated'],
      queryOptions: ['notifyOnUserSpecificProperties'],
      permissions: ['ChatSettings.Read.Chat', 'Chat.Manage.Chat', ...CHAT_PERMISSIONS],
    }),
    catalogEntry({ pattern: new RegExp(`^/users/${ID}/chats$`), changeTypes: ['created', 'updated'], betaOnly: true, queryOptions: ['notifyOnUserSpecificProperties'], permissions: CHAT_PERMISSIONS }),
    catalogEntry({ pattern: /^\/me\/chats$/, changeTypes: ['created', 'updated'], betaOnly: true, userContextOnly: true, permissions: CHAT_PERMISSIONS }),
    catalogEntry({
      pattern: new RegExp(`^/appCatalogs/teamsApps/${ID}/installedToChats$`),
      changeTypes: ['created', 'updated'],
      models: ['B'],
      note: 'resource-specific consent in each chat',
      permissions: INSTALLED_CHAT_PERMISSIONS,
    }),
  ],
  backfill: {
    scopesOf: (path) => {
      if (path === '/chats') return { scopes: [{ kind: 'plan' }] };
      if (/^\/chats\/[^/]+$/.test(path)) return { scopes: [{ kind: 'chat', chatId: pathSegment(path, 2) }] };
      if (/^\/users\/[^/]+\/chats$/.test(path)) return { scopes: [{ kind: 'userChats', userId: pathSegment(path, 2) }] };
      return { unsupported: `no read API lists the chats of ${path}` };
    },
    plan: { listing: '/v1.0/users?$select=id', read: LIST_USERS, childScope: (userId) => ({ kind: 'userChats', userId }) },
  },
};
