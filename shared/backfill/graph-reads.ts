import { readingOf, type BackfillScope } from '../kinds/backfill-scopes.js';
import { kindNamed } from '../kinds/teams-kinds.js';
import type { DesiredSubscription } from '../subscriptions/desired-subscriptions.js';
import type { BackfillPiece } from './backfill-piece.js';

export { chatContainer, PAGE_SIZE } from '../kinds/backfill-scopes.js';

/** A piece's window, in ms since the epoch. */
export interface Window {
  readonly from: number;
  readonly to: number;
}

/** The plan of the desired subscription's kind (its tenant-wide listing, and the scope of each listed id). */
function planOf(desired: Pick<DesiredSubscription, 'catalog'>) {
  const plan = kindNamed(desired.catalog.kind).backfill?.plan;
  if (!plan) throw new Error(`a ${desired.catalog.kind} subscription has no backfill plan`);
  return plan;
}

/**
 * The Graph URL of a piece's first page: its scope's listing (shared/kinds/backfill-scopes.ts), narrowed to
 * the piece's window where the listing can be; a plan's is its kind's tenant-wide listing.
 */
export function firstPage(piece: Pick<BackfillPiece, 'scope' | 'from' | 'to'>, desired: Pick<DesiredSubscription, 'catalog' | 'model'>): string {
  const page = readingOf(piece.scope).firstPage;
  if (!page) return planOf(desired).listing;
  return page(piece.scope, { from: piece.from, to: piece.to, model: desired.model ? `&model=${desired.model}` : '' });
}

/** The scope a plan's listed item (a user, a team: its `id`) stands for, or undefined for an item without id. */
export function childScope(desired: Pick<DesiredSubscription, 'catalog'>, id: string): BackfillScope | undefined {
  return id ? planOf(desired).childScope(id) : undefined;
}

/** The chat or channel a piece reads, which Teams rate-limits on its own (its pacer key), or undefined. */
export const containerOf = (scope: BackfillScope): string | undefined => readingOf(scope).container?.(scope);

/** A membership history piece is followed, once its listing is read, by the comparison of members it leads to. */
export const afterHistory = (scope: BackfillScope): BackfillScope | undefined => readingOf(scope).then?.(scope);

/** The chats a page of membership history names (none for other pieces; a chat's members piece holds its chat from the start). */
export function historyChatsOf(scope: BackfillScope, items: readonly Record<string, unknown>[]): string[] {
  if (readingOf(scope).items !== 'membershipHistory') return [];
  return items.flatMap((m) => (typeof m.chatId === 'string' ? [m.chatId] : []));
}

/**
 * The scopes a page of a scope that lists others stands for (a plan's users or teams, a user's chats whose
 * membership may have changed), or undefined for a scope whose page holds changes.
 */
export function childScopesOf(scope: BackfillScope, items: readonly Record<string, unknown>[], window: Window, desired: Pick<DesiredSubscription, 'catalog'>): BackfillScope[] | undefined {
  if (readingOf(scope).items !== 'scopes') return undefined;
  if (scope.kind === 'plan') return items.flatMap((item) => childScope(desired, typeof item.id === 'string' ? item.id : '') ?? []);
  // A user's chats whose membership may have changed in the window: created in it (its first members came
  // with it, and a later change moves lastUpdatedDateTime past the window) or updated in it (it moves on
  // member changes).
  const inWindow = (stamp: unknown) => typeof stamp === 'string' && Date.parse(stamp) >= window.from && Date.parse(stamp) <= window.to;
  return items.flatMap((chat) =>
    typeof chat.id === 'string' && (inWindow(chat.createdDateTime) || inWindow(chat.lastUpdatedDateTime ?? chat.createdDateTime)) ? [{ kind: 'chatMembers' as const, chatId: chat.id }] : [],
  );
}
