import type { ResourceKind } from '../kinds/teams-kinds.js';
/**
 * The Teams resources the app can subscribe to, with Graph's rules for each (from graph-protocol.md).
 * One table: the desired-subscriptions file is checked against it, and lifetimes come from it.
 */
export interface CatalogResource {
  readonly pattern: RegExp;
  readonly kind: ResourceKind;
  readonly changeTypes: readonly string[];
  /** Longest lifetime Graph allows, in minutes. */
  readonly maxMinutes: number;
  readonly betaOnly: boolean;
  /**
   * Payment models Graph accepts in `model=` on this resource; empty: it takes none. Optional: since 25 August 2025
   * the Teams APIs are no longer metered (docs/subscriptions.md), so no resource needs one.
   */
  readonly models: readonly ('A' | 'B')[];
  readonly queryOptions: readonly string[];
  /** Application permissions, any one of which lets the app subscribe (least privileged first). */
  readonly permissions: readonly string[];
  /** Messages: application-permission subscriptions also need Microsoft's approval for Teams' protected APIs. */
  readonly protectedApi?: boolean;
  /** Needs a delegated (user) token, which this app (application permissions) does not have. */
  readonly userContextOnly?: boolean;
  readonly note?: string;
}

export const TEAMS_MAX_MINUTES = 4320;
const ID = "(?!getAll)[^/?()']+";
const r = (c: Omit<CatalogResource, 'maxMinutes' | 'betaOnly' | 'models' | 'queryOptions'> & Partial<CatalogResource>): CatalogResource => ({
  maxMinutes: TEAMS_MAX_MINUTES,
  betaOnly: false,
  models: [],
  queryOptions: [],
  ...c,
});

const CHATS = ['Chat.ReadBasic.All', 'Chat.Read.All', 'Chat.ReadWrite.All'];
const INSTALLED = ['Chat.ReadBasic.WhereInstalled', 'Chat.Read.WhereInstalled', 'Chat.ReadWrite.WhereInstalled'];
const MEMBERS = ['ChatMember.Read.All', 'ChatMember.ReadWrite.All', ...CHATS];
const MESSAGES = ['Chat.Read.All', 'Chat.ReadWrite.All'];

export const RESOURCE_CATALOG: readonly CatalogResource[] = [
  r({ pattern: /^\/chats$/, kind: 'chat', changeTypes: ['created', 'updated'], permissions: CHATS }),
  r({
    pattern: new RegExp(`^/chats/${ID}$`),
    kind: 'chat',
    changeTypes: ['created', 'updated'],
    queryOptions: ['notifyOnUserSpecificProperties'],
    permissions: ['ChatSettings.Read.Chat', 'Chat.Manage.Chat', ...CHATS],
  }),
  r({ pattern: new RegExp(`^/users/${ID}/chats$`), kind: 'chat', changeTypes: ['created', 'updated'], betaOnly: true, queryOptions: ['notifyOnUserSpecificProperties'], permissions: CHATS }),
  r({ pattern: /^\/me\/chats$/, kind: 'chat', changeTypes: ['created', 'updated'], betaOnly: true, userContextOnly: true, permissions: CHATS }),
  r({
    pattern: new RegExp(`^/appCatalogs/teamsApps/${ID}/installedToChats$`),
    kind: 'chat',
    changeTypes: ['created', 'updated'],
    models: ['B'],
    note: 'resource-specific consent in each chat',
    permissions: INSTALLED,
  }),
  r({ pattern: /^\/chats\/getAllMembers$/, kind: 'chatMember', changeTypes: ['created', 'deleted'], models: ['A', 'B'], permissions: MEMBERS }),
  r({ pattern: new RegExp(`^/chats/${ID}/members$`), kind: 'chatMember', changeTypes: ['created', 'deleted'], permissions: ['ChatMember.Read.Chat', 'Chat.Manage.Chat', ...MEMBERS] }),
  r({
    pattern: new RegExp(`^/appCatalogs/teamsApps/${ID}/installedToChats/getAllMembers$`),
    kind: 'chatMember',
    changeTypes: ['created', 'deleted', 'updated'],
    models: ['B'],
    permissions: ['ChatMember.Read.WhereInstalled', 'ChatMember.ReadWrite.WhereInstalled', ...INSTALLED],
  }),
  r({
    pattern: /^\/teams\/getAllMessages$/,
    kind: 'channelMessage',
    changeTypes: ['created', 'updated', 'deleted'],
    models: ['A', 'B'],
    queryOptions: ['$search'],
    permissions: ['ChannelMessage.Read.All'],
    protectedApi: true,
  }),
  r({
    pattern: /^\/chats\/getAllMessages$/,
    kind: 'chatMessage',
    changeTypes: ['created', 'updated', 'deleted'],
    models: ['A', 'B'],
    queryOptions: ['$search'],
    permissions: MESSAGES,
    protectedApi: true,
  }),
  r({
    pattern: new RegExp(`^/teams/${ID}/channels/${ID}/messages$`),
    kind: 'channelMessage',
    changeTypes: ['created', 'updated', 'deleted'],
    queryOptions: ['$search', '$filter'],
    permissions: ['ChannelMessage.Read.Group', 'ChannelMessage.Read.All'],
    protectedApi: true,
  }),
  r({
    pattern: new RegExp(`^/chats/${ID}/messages$`),
    kind: 'chatMessage',
    changeTypes: ['created', 'updated', 'deleted'],
    queryOptions: ['$search', '$filter'],
    permissions: ['ChatMessage.Read.Chat', ...MESSAGES],
    protectedApi: true,
  }),
  r({
    pattern: new RegExp(`^/users/${ID}/chats/getAllMessages$`),
    kind: 'chatMessage',
    changeTypes: ['created', 'updated', 'deleted'],
    betaOnly: true,
    models: ['B'],
    queryOptions: ['$search'],
    permissions: MESSAGES,
    protectedApi: true,
  }),
  r({
    pattern: new RegExp(`^/appCatalogs/teamsApps/${ID}/installedToChats/getAllMessages$`),
    kind: 'chatMessage',
    changeTypes: ['created', 'updated', 'deleted'],
    models: ['B'],
    permissions: ['Chat.Read.WhereInstalled', 'Chat.ReadWrite.WhereInstalled'],
    protectedApi: true,
  }),
];

export interface ResourceCheck {
  readonly entry?: CatalogResource;
  readonly model?: 'A' | 'B';
  readonly problems: string[];
}

/** Checks one subscription resource (path and query) against the catalog. */
export function checkResource(resource: string, version: 'v1.0' | 'beta'): ResourceCheck {
  const [path = '', query = ''] = resource.split('?', 2);
  const entry = RESOURCE_CATALOG.find((e) => e.pattern.test(path));
  if (!entry) return { problems: [`"${resource}" is not a Teams chat, membership or message resource Graph notifies about`] };
  const problems: string[] = [];
  if (entry.betaOnly && version !== 'beta') problems.push(`"${path}" exists only on the beta endpoint: set "version": "beta"`);
  if (entry.userContextOnly) problems.push(`"${path}" needs a signed-in user; this app subscribes with application permissions`);
  let model: 'A' | 'B' | undefined;
  for (const [key, value] of new URLSearchParams(query)) {
    if (key === 'model') {
      if (value !== 'A' && value !== 'B') problems.push(`model=${value} is not a payment model (A or B)`);
      else if (!entry.models.includes(value)) problems.push(entry.models.length ? `"${path}" takes model=${entry.models.join(' or model=')} only` : `"${path}" takes no payment model`);
      else model = value;
    } else if (key === 'notifyOnUserSpecificProperties') {
      if (!entry.queryOptions.includes(key)) problems.push(`"${path}" does not take notifyOnUserSpecificProperties`);
      else if (value === 'true') problems.push('notifyOnUserSpecificProperties=true needs a signed-in user; this app subscribes with application permissions');
    } else if (!entry.queryOptions.includes(key)) {
      problems.push(`"${path}" does not take the query option ${key}`);
    } else if (key === '$filter' && !/^mentions\/any\(\s*(\w+)\s*:\s*\1\/mentioned\/user\/id\s+eq\s+'[^']+'\s*\)$/.test(value.trim())) {
      problems.push(`$filter supports only mentions/any(u: u/mentioned/user/id eq '{user-id}')`);
    }
  }
  return { entry, ...(model ? { model } : {}), problems };
}
