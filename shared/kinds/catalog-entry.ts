/** A resource the app can subscribe to, with Graph's rules for it (from graph-protocol.md). */
export interface CatalogEntry {
  readonly pattern: RegExp;
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
/** An id in a catalog pattern (never a `getAll…` function). */
export const ID = "(?!getAll)[^/?()']+";

/** A catalog entry, with Teams' defaults: the longest lifetime, v1.0, no payment model, no query option. */
export const catalogEntry = (c: Omit<CatalogEntry, 'maxMinutes' | 'betaOnly' | 'models' | 'queryOptions'> & Partial<CatalogEntry>): CatalogEntry => ({
  maxMinutes: TEAMS_MAX_MINUTES,
  betaOnly: false,
  models: [],
  queryOptions: [],
  ...c,
});

/** The permissions that read chats, tenant-wide (least privileged first). */
export const CHAT_PERMISSIONS = ['Chat.ReadBasic.All', 'Chat.Read.All', 'Chat.ReadWrite.All'];
/** The permissions that read the chats the app is installed in. */
export const INSTALLED_CHAT_PERMISSIONS = ['Chat.ReadBasic.WhereInstalled', 'Chat.Read.WhereInstalled', 'Chat.ReadWrite.WhereInstalled'];
