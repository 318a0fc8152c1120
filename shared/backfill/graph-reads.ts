import type { DesiredSubscription } from '../subscriptions/desired-subscriptions.js';
import type { BackfillPiece, BackfillScope } from './backfill-piece.js';

/** Items per page asked of a listing that takes `$top`. */
export const PAGE_SIZE = 50;
const enc = encodeURIComponent;

/** A piece's window, in ms since the epoch. */
export interface Window {
  readonly from: number;
  readonly to: number;
}

/** The Graph URL of a piece's first page: its scope's listing, narrowed to the piece's window where the listing can be. */
export function firstPage(piece: Pick<BackfillPiece, 'scope' | 'from' | 'to'>, desired: Pick<DesiredSubscription, 'catalog' | 'model'>): string {
  const window = `lastModifiedDateTime gt ${piece.from} and lastModifiedDateTime lt ${piece.to}`;
  const model = desired.model ? `&model=${desired.model}` : '';
  const s = piece.scope;
  switch (s.kind) {
    case 'plan':
      return desired.catalog.kind === 'channelMessage' ? '/v1.0/teams?$select=id' : '/v1.0/users?$select=id';
    case 'chatMessages':
    case 'chatMembershipHistory':
      return `/v1.0/chats/${enc(s.chatId)}/messages?$top=${PAGE_SIZE}&$orderby=lastModifiedDateTime desc&$filter=${enc(window)}`;
    case 'userChatMessages':
      return `/v1.0/users/${enc(s.userId)}/chats/getAllMessages?$top=${PAGE_SIZE}&$filter=${enc(window)}${model}`;
    case 'teamChannelMessages':
      return `/v1.0/teams/${enc(s.teamId)}/channels/getAllMessages?$top=${PAGE_SIZE}&$filter=${enc(window)}${model}`;
    case 'channelMessages':
      return `/v1.0/teams/${enc(s.teamId)}/channels/${enc(s.channelId)}/messages/delta?$filter=${enc(`lastModifiedDateTime gt ${piece.from}`)}`;
    case 'userChats':
      return `/v1.0/users/${enc(s.userId)}/chats?$top=${PAGE_SIZE}`;
    case 'chat':
      return `/v1.0/chats/${enc(s.chatId)}`;
    case 'userChatsMembership':
      return `/v1.0/users/${enc(s.userId)}/chats?$top=${PAGE_SIZE}`;
    case 'chatMembers':
      return `/v1.0/chats/${enc(s.chatId)}/members`;
    case 'userMembershipHistory':
      // The export API filters system event messages itself: a user's whole membership history, few pages.
      return `/v1.0/users/${enc(s.userId)}/chats/getAllMessages?$top=${PAGE_SIZE}&$filter=${enc(`${window} and messageType eq 'systemEventMessage'`)}${model}`;
  }
}

/** The scope a plan's listed item (a user, a team: its `id`) stands for, or undefined for an item without id. */
export function childScope(desired: Pick<DesiredSubscription, 'catalog'>, id: string): BackfillScope | undefined {
  if (!id) return undefined;
  switch (desired.catalog.kind) {
    case 'chatMessage':
      return { kind: 'userChatMessages', userId: id };
    case 'channelMessage':
      return { kind: 'teamChannelMessages', teamId: id };
    case 'chat':
      return { kind: 'userChats', userId: id };
    case 'chatMember':
      return { kind: 'userMembershipHistory', userId: id };
  }
}

/** The chat or channel a piece reads, which Teams rate-limits on its own (its pacer key), or undefined. */
export function containerOf(scope: BackfillScope): string | undefined {
  if (scope.kind === 'chatMessages' || scope.kind === 'chatMembers' || scope.kind === 'chatMembershipHistory') return chatContainer(scope.chatId);
  if (scope.kind === 'channelMessages') return `channel:${scope.teamId}/${scope.channelId}`;
  return undefined;
}

/** The pacer key of one chat's reads (the same as its pieces'). */
export const chatContainer = (chatId: string) => `chat:${chatId}`;

/** A membership history piece is followed, once its listing is read, by the comparison of members it leads to. */
export function afterHistory(scope: BackfillScope): BackfillScope | undefined {
  if (scope.kind === 'chatMembershipHistory') return { kind: 'chatMembers', chatId: scope.chatId };
  if (scope.kind === 'userMembershipHistory') return { kind: 'userChatsMembership', userId: scope.userId };
  return undefined;
}

/** The chats a page of membership history names (none for other pieces; a chat's members piece holds its chat from the start). */
export function historyChatsOf(scope: BackfillScope, items: readonly Record<string, unknown>[]): string[] {
  if (afterHistory(scope) === undefined) return [];
  return items.flatMap((m) => (typeof m.chatId === 'string' ? [m.chatId] : []));
}

/**
 * The scopes a page of a scope that lists others stands for (a plan's users or teams, a user's chats whose
 * membership may have changed), or undefined for a scope whose page holds changes.
 */
export function childScopesOf(scope: BackfillScope, items: readonly Record<string, unknown>[], window: Window, desired: Pick<DesiredSubscription, 'catalog'>): BackfillScope[] | undefined {
  if (scope.kind === 'plan') return items.flatMap((item) => childScope(desired, typeof item.id === 'string' ? item.id : '') ?? []);
  if (scope.kind !== 'userChatsMembership') return undefined;
  // Chats whose membership may have changed in the window: created in it (its first members came with it,
  // and a later change moves lastUpdatedDateTime past the window) or updated in it (it moves on member changes).
  const inWindow = (stamp: unknown) => typeof stamp === 'string' && Date.parse(stamp) >= window.from && Date.parse(stamp) <= window.to;
  return items.flatMap((chat) =>
    typeof chat.id === 'string' && (inWindow(chat.createdDateTime) || inWindow(chat.lastUpdatedDateTime ?? chat.createdDateTime)) ? [{ kind: 'chatMembers' as const, chatId: chat.id }] : [],
  );
}
