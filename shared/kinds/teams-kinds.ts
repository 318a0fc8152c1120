import { channelMessage } from './channel-message.js';
import { chatMember } from './chat-member.js';
import { chatMessage } from './chat-message.js';
import { chat } from './chat.js';
import type { TeamsKind } from './teams-kind.js';

/**
 * What the app knows of each kind of Teams resource it relays, in one place: the name events carry (`kind`,
 * `type`), the queue its events go to by default, how a notified resource of the kind is parsed and read from Graph,
 * whether it is a membership (remembered per chat for the backfill's comparison), and how messages name it.
 * Everything that lists the kinds derives from this table: the routing file's `match.kind`, the default
 * routes, the event schema's enums (docs/teams-event.schema.json) and Bicep's downstream queues
 * (infra/teams-kinds.json, written by `npm run kinds:write`); test/unit/kind-registry.test.ts fails when one
 * of them differs. How to add a kind: docs/contributing.md.
 */

export type { ResourceIds, TeamsKind } from './teams-kind.js';

/** Every kind, one file each; a new kind is one more file and one more entry here. */
export const TEAMS_KINDS = { chat, chatMember, chatMessage, channelMessage } as const satisfies Record<string, TeamsKind>;

export type ResourceKind = keyof typeof TEAMS_KINDS;

/** Every kind's name, in the table's order (a tuple, for zod's enum). */
export const KIND_NAMES = Object.keys(TEAMS_KINDS) as [ResourceKind, ...ResourceKind[]];

/** The kind named `name`. */
export const kindNamed = (name: ResourceKind): TeamsKind => TEAMS_KINDS[name];

/** The queue each kind's events go to when no rule says otherwise. */
export const DEFAULT_QUEUES: Readonly<Record<ResourceKind, string>> = Object.fromEntries(KIND_NAMES.map((k) => [k, TEAMS_KINDS[k].defaultQueue])) as Record<ResourceKind, string>;

/** What Bicep reads (infra/teams-kinds.json, `loadJsonContent`): the default queues it creates. */
export const infraKinds = () => ({ defaultQueues: DEFAULT_QUEUES });
