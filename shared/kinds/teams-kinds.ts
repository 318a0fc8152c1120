/**
 * What the app knows of each kind of Teams resource it relays, in one place: the name events carry (`kind`,
 * `type`), the queue its events go to by default, how a notified resource of the kind is read from Graph,
 * whether it is a membership (remembered per chat for the backfill's comparison), and how messages name it.
 * Everything that lists the kinds derives from this table: the routing file's `match.kind`, the default
 * routes, the event schema's enums (docs/teams-event.schema.json) and Bicep's downstream queues
 * (infra/teams-kinds.json, written by `npm run kinds:write`); test/unit/kind-registry.test.ts fails when one
 * of them differs. How to add a kind: docs/contributing.md.
 */

/** The ids a notified resource's path holds (see parseResourcePath). */
export interface ResourceIds {
  readonly kind: ResourceKind;
  readonly chatId?: string;
  readonly teamId?: string;
  readonly channelId?: string;
  readonly messageId?: string;
  /** For a reply: the message it replies to. */
  readonly parentMessageId?: string;
  readonly memberId?: string;
}

export interface TeamsKind {
  /** The queue its events go to when no routing rule says otherwise (Bicep creates it). */
  readonly defaultQueue: string;
  /** What one subscription per container covers, in messages ("chat's members"). */
  readonly noun: string;
  /** Its events are memberships: the app remembers each chat's members from them. */
  readonly membership: boolean;
  /** The Graph path that GETs one resource of the kind, from its ids. */
  readonly readPath: (ids: ResourceIds, version: 'v1.0' | 'beta') => string;
}

const enc = encodeURIComponent;

export const TEAMS_KINDS = {
  chat: {
    defaultQueue: 'teams-chats',
    noun: 'chat',
    membership: false,
    readPath: (ids, v) => `/${v}/chats/${enc(ids.chatId!)}`,
  },
  chatMember: {
    defaultQueue: 'teams-chat-members',
    noun: "chat's members",
    membership: true,
    readPath: (ids, v) => `/${v}/chats/${enc(ids.chatId!)}/members/${enc(ids.memberId!)}`,
  },
  chatMessage: {
    defaultQueue: 'teams-chat-messages',
    noun: "chat's or channel's messages",
    membership: false,
    readPath: (ids, v) => `/${v}/chats/${enc(ids.chatId!)}/messages/${enc(ids.messageId!)}`,
  },
  channelMessage: {
    defaultQueue: 'teams-channel-messages',
    noun: "chat's or channel's messages",
    membership: false,
    readPath: (ids, v) => {
      const channel = `/${v}/teams/${enc(ids.teamId!)}/channels/${enc(ids.channelId!)}/messages`;
      return ids.parentMessageId ? `${channel}/${enc(ids.parentMessageId)}/replies/${enc(ids.messageId!)}` : `${channel}/${enc(ids.messageId!)}`;
    },
  },
} as const satisfies Record<string, TeamsKind>;

export type ResourceKind = keyof typeof TEAMS_KINDS;

/** Every kind's name, in the table's order (a tuple, for zod's enum). */
export const KIND_NAMES = Object.keys(TEAMS_KINDS) as [ResourceKind, ...ResourceKind[]];

/** The kind named `name`. */
export const kindNamed = (name: ResourceKind): TeamsKind => TEAMS_KINDS[name];

/** The queue each kind's events go to when no rule says otherwise. */
export const DEFAULT_QUEUES: Readonly<Record<ResourceKind, string>> = Object.fromEntries(KIND_NAMES.map((k) => [k, TEAMS_KINDS[k].defaultQueue])) as Record<ResourceKind, string>;

/** What Bicep reads (infra/teams-kinds.json, `loadJsonContent`): the default queues it creates. */
export const infraKinds = () => ({ defaultQueues: DEFAULT_QUEUES });
