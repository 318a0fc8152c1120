/**
 * The Teams resources the simulator accepts subscriptions for, with the rules Graph applies to each.
 * The simulator's own table, independent of the app's (so each checks the other).
 */
export type ResourceKind = 'chat' | 'member' | 'chatMessage' | 'channelMessage';

export interface CatalogEntry {
  readonly name: string;
  /** Matches the resource path (query string removed), capturing ids by name. */
  readonly pattern: RegExp;
  readonly kind: ResourceKind;
  readonly changeTypes: readonly string[];
  readonly maxMinutes: number;
  readonly betaOnly: boolean;
  /** Payment models accepted in `model=`, never required (the Teams APIs are not metered since 25 August 2025); empty: the resource takes none. */
  readonly models: readonly ('A' | 'B')[];
  /** Query options the resource accepts besides `model`. */
  readonly options: readonly ('notifyOnUserSpecificProperties' | '$search' | '$filter')[];
  /** Application permissions, any one of which lets an app subscribe (least privileged first). */
  readonly permissions: readonly string[];
}

const ID = "(?!getAll)[^/()']+";
const TEAMS_MAX_MINUTES = 4320;

const entry = (e: Omit<CatalogEntry, 'maxMinutes' | 'betaOnly' | 'models' | 'options'> & Partial<CatalogEntry>): CatalogEntry => ({
  maxMinutes: TEAMS_MAX_MINUTES,
  betaOnly: false,
  models: [],
  options: [],
  ...e,
});

// Application permissions per resource, from Graph's change-notification pages for chats, chat members and
// messages (resource-specific consent permissions such as Chat.Manage.Chat count as ordinary grants here).
const CHATS = ['Chat.ReadBasic.All', 'Chat.Read.All', 'Chat.ReadWrite.All'];
const ONE_CHAT = ['ChatSettings.Read.Chat', 'ChatSettings.ReadWrite.Chat', 'Chat.Manage.Chat', ...CHATS];
const INSTALLED = ['Chat.ReadBasic.WhereInstalled', 'Chat.Read.WhereInstalled', 'Chat.ReadWrite.WhereInstalled'];
const MEMBERS = ['ChatMember.Read.All', 'ChatMember.ReadWrite.All', ...CHATS];
const CHAT_MESSAGES = ['Chat.Read.All', 'Chat.ReadWrite.All'];

const CHAT = ['created', 'updated'];
const MEMBER = ['created', 'deleted'];
const MESSAGE = ['created', 'updated', 'deleted'];

export const CATALOG: readonly CatalogEntry[] = [
  entry({ name: 'all chats', pattern: /^\/chats$/, kind: 'chat', changeTypes: CHAT, permissions: CHATS }),
  entry({ name: 'one chat', pattern: new RegExp(`^/chats/(?<chatId>${ID})$`), kind: 'chat', changeTypes: CHAT, options: ['notifyOnUserSpecificProperties'], permissions: ONE_CHAT }),
  entry({
    name: "a user's chats",
    pattern: new RegExp(`^/(?:users/(?<userId>${ID})|me)/chats$`),
    kind: 'chat',
    changeTypes: CHAT,
    betaOnly: true,
    options: ['notifyOnUserSpecificProperties'],
    permissions: CHATS,
  }),
  entry({
    name: 'chats with the app installed',
    pattern: new RegExp(`^/appCatalogs/teamsApps/(?<appId>${ID})/installedToChats$`),
    kind: 'chat',
    changeTypes: CHAT,
    models: ['B'],
    permissions: INSTALLED,
  }),
  entry({ name: 'all chat members', pattern: /^\/chats\/getAllMembers$/, kind: 'member', changeTypes: MEMBER, models: ['A', 'B'], permissions: MEMBERS }),
  entry({
    name: 'members of one chat',
    pattern: new RegExp(`^/chats/(?<chatId>${ID})/members$`),
    kind: 'member',
    changeTypes: MEMBER,
    permissions: ['ChatMember.Read.Chat', 'Chat.Manage.Chat', ...MEMBERS],
  }),
  entry({
    name: 'members of chats with the app installed',
    pattern: new RegExp(`^/appCatalogs/teamsApps/(?<appId>${ID})/installedToChats/getAllMembers$`),
    kind: 'member',
    changeTypes: ['created', 'deleted', 'updated'],
    models: ['B'],
    permissions: ['ChatMember.Read.WhereInstalled', 'ChatMember.ReadWrite.WhereInstalled', ...INSTALLED],
  }),
  entry({
    name: 'all channel messages',
    pattern: /^\/teams\/getAllMessages$/,
    kind: 'channelMessage',
    changeTypes: MESSAGE,
    models: ['A', 'B'],
    options: ['$search'],
    permissions: ['ChannelMessage.Read.All'],
  }),
  entry({ name: 'all chat messages', pattern: /^\/chats\/getAllMessages$/, kind: 'chatMessage', changeTypes: MESSAGE, models: ['A', 'B'], options: ['$search'], permissions: CHAT_MESSAGES }),
  entry({
    name: 'messages of one channel',
    pattern: new RegExp(`^/teams/(?<teamId>${ID})/channels/(?<channelId>${ID})/messages$`),
    kind: 'channelMessage',
    changeTypes: MESSAGE,
    options: ['$search', '$filter'],
    permissions: ['ChannelMessage.Read.Group', 'ChannelMessage.Read.All'],
  }),
  entry({
    name: 'messages of one chat',
    pattern: new RegExp(`^/chats/(?<chatId>${ID})/messages$`),
    kind: 'chatMessage',
    changeTypes: MESSAGE,
    options: ['$search', '$filter'],
    permissions: ['ChatMessage.Read.Chat', ...CHAT_MESSAGES],
  }),
  entry({
    name: "messages of a user's chats",
    pattern: new RegExp(`^/users/(?<userId>${ID})/chats/getAllMessages$`),
    kind: 'chatMessage',
    changeTypes: MESSAGE,
    betaOnly: true,
    models: ['B'],
    options: ['$search'],
    permissions: CHAT_MESSAGES,
  }),
  entry({
    name: 'messages of chats with the app installed',
    pattern: new RegExp(`^/appCatalogs/teamsApps/(?<appId>${ID})/installedToChats/getAllMessages$`),
    kind: 'chatMessage',
    changeTypes: MESSAGE,
    models: ['B'],
    permissions: ['Chat.Read.WhereInstalled', 'Chat.ReadWrite.WhereInstalled'],
  }),
];

export interface ParsedResource {
  readonly entry: CatalogEntry;
  readonly path: string;
  readonly ids: Readonly<Record<string, string>>;
  readonly model?: 'A' | 'B';
  readonly notifyOnUserSpecificProperties: boolean;
  readonly search?: string;
  /** The user id of `$filter=mentions/any(u: u/mentioned/user/id eq '{id}')`. */
  readonly mentionedUserId?: string;
}

const MENTION_FILTER = /^mentions\/any\(\s*(\w+)\s*:\s*\1\/mentioned\/user\/id\s+eq\s+'([^']+)'\s*\)$/;

/** Parses a subscription resource, or returns the message Graph would give for it. */
export function parseResource(resource: string, version: 'v1.0' | 'beta'): ParsedResource | string {
  const [rawPath = '', query = ''] = resource.split('?', 2);
  const path = '/' + rawPath.replace(/^\/+/, '').replace(/\/+$/, '');
  const entry = CATALOG.find((e) => e.pattern.test(path));
  if (!entry) return `Resource '${resource}' is not supported for change notifications.`;
  if (entry.betaOnly && version !== 'beta') return `Resource '${path}' is only supported on the beta endpoint.`;
  const ids = { ...(entry.pattern.exec(path)?.groups ?? {}) };
  const params = new URLSearchParams(query);
  let model: 'A' | 'B' | undefined;
  let notify = false;
  let search: string | undefined;
  let mentionedUserId: string | undefined;
  for (const [key, value] of params) {
    if (key === 'model') {
      if (value !== 'A' && value !== 'B') return `Invalid model '${value}': use model=A or model=B.`;
      if (!entry.models.includes(value)) {
        return entry.models.length === 0 ? `Resource '${path}' does not take a payment model.` : `Resource '${path}' supports only model=${entry.models.join(' or model=')}.`;
      }
      model = value;
    } else if (key === 'notifyOnUserSpecificProperties') {
      if (!entry.options.includes('notifyOnUserSpecificProperties')) return `Query option '${key}' is not supported on '${path}'.`;
      if (value !== 'true' && value !== 'false') return `Invalid value '${value}' for notifyOnUserSpecificProperties.`;
      notify = value === 'true';
    } else if (key === '$search') {
      if (!entry.options.includes('$search')) return `Query option '$search' is not supported on '${path}'.`;
      search = value.replace(/^"(.*)"$/, '$1');
    } else if (key === '$filter') {
      if (!entry.options.includes('$filter')) return `Query option '$filter' is not supported on '${path}'.`;
      const m = MENTION_FILTER.exec(value.trim());
      if (!m) return `Invalid filter '${value}': only mentions/any(u: u/mentioned/user/id eq '{user-id}') is supported.`;
      mentionedUserId = m[2];
    } else {
      return `Query option '${key}' is not supported on '${path}'.`;
    }
  }
  return {
    entry,
    path,
    ids,
    notifyOnUserSpecificProperties: notify,
    ...(model ? { model } : {}),
    ...(search !== undefined ? { search } : {}),
    ...(mentionedUserId ? { mentionedUserId } : {}),
  };
}
