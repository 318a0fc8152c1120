import type { BackfillScope, GraphRead } from './backfill-scopes.js';
import type { CatalogEntry } from './catalog-entry.js';
import type { ResourceKind } from './teams-kinds.js';

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

/** One segment of a notified resource's path: its name (lower case) and its id, if any (`chats('…')`). */
export type Segment = readonly [name: string, id: string | undefined];

/** The scopes that cover a subscription, or why none can (then the gap gets a resync event instead). */
export type ScopesOrWhyNot = { scopes: BackfillScope[] } | { unsupported: string };

/** How gaps of a kind are read back from Graph (see shared/backfill/). */
export interface KindBackfill {
  /** The scopes that cover a subscription to `path` (a catalog resource of the kind, without its query). */
  scopesOf(path: string): ScopesOrWhyNot;
  /**
   * The tenant-wide `plan` scope: the listing it reads (users, teams: their ids) and the scope each listed
   * id stands for. Needed when `scopesOf` gives a plan.
   */
  readonly plan?: { readonly listing: string; readonly read: GraphRead; childScope(id: string): BackfillScope };
}

/** Everything the app knows of one kind of Teams resource (one file per kind, listed in teams-kinds.ts). */
export interface TeamsKind {
  /** The queue its events go to when no routing rule says otherwise (Bicep creates it). */
  readonly defaultQueue: string;
  /** What one subscription per container covers, in messages ("chat's members"). */
  readonly noun: string;
  /** Its events are memberships: the app remembers each chat's members from them. */
  readonly membership: boolean;
  /** The Graph path that GETs one resource of the kind, from its ids. */
  readonly readPath: (ids: ResourceIds, version: 'v1.0' | 'beta') => string;
  /** The ids of a notified resource of this kind (its path's segments), or undefined for another kind's. */
  readonly parse: (segments: readonly Segment[]) => ResourceIds | undefined;
  /** The resources of the kind the app can subscribe to, with Graph's rules for each. */
  readonly catalog: readonly CatalogEntry[];
  /** How its gaps are read back; without, a gap's window gets a `backfillIncomplete` resync event. */
  readonly backfill?: KindBackfill;
}

/** The `i`-th segment of a slash path, decoded. */
export const pathSegment = (path: string, i: number) => decodeURIComponent(path.split('/')[i] ?? '');
