import { z } from 'zod';
import type { DesiredSubscription } from '../subscriptions/desired-subscriptions.js';

export const BACKFILL_PIECE_SCHEMA = 'teams-change-relay.backfill-piece.v1';

/** Where one piece of a backfill reads from: one Graph listing, paged. */
export type BackfillScope =
  /** The subscription's whole scope: expanded into the pieces below (users, teams) when it is processed. */
  | { readonly kind: 'plan' }
  | { readonly kind: 'chatMessages'; readonly chatId: string }
  | { readonly kind: 'userChatMessages'; readonly userId: string }
  | { readonly kind: 'teamChannelMessages'; readonly teamId: string }
  | { readonly kind: 'channelMessages'; readonly teamId: string; readonly channelId: string }
  | { readonly kind: 'userChats'; readonly userId: string }
  | { readonly kind: 'chat'; readonly chatId: string }
  /** A user's chats changed in the window, each then diffed as `chatMembers`. */
  | { readonly kind: 'userChatsMembership'; readonly userId: string }
  /** A chat's members now, against the last known membership. */
  | { readonly kind: 'chatMembers'; readonly chatId: string }
  /** A chat's membership system event messages in the window; then its members (`chatMembers`). */
  | { readonly kind: 'chatMembershipHistory'; readonly chatId: string }
  /** The membership system event messages of a user's chats in the window; then its chats (`userChatsMembership`). */
  | { readonly kind: 'userMembershipHistory'; readonly userId: string };

/**
 * One resumable piece of work on the backfill queue: a listing of one scope within a gap's window, from
 * its first page or from the `@odata.nextLink` where the previous piece stopped. A crash or a timeout
 * repeats at most one page; events are de-duplicated by id downstream of that.
 */
export interface BackfillPiece {
  readonly schema: typeof BACKFILL_PIECE_SCHEMA;
  readonly gapId: string;
  /** The desired subscription's name. */
  readonly name: string;
  /** The window, already widened by the margin (ISO times). */
  readonly from: string;
  readonly to: string;
  readonly scope: BackfillScope;
  /** The next page to read, when the piece continues a listing. */
  readonly next?: string;
  /** How many times the piece came back from the host's poison queue and was queued again. */
  readonly requeues?: number;
}

const segment = (path: string, i: number) => decodeURIComponent(path.split('/')[i] ?? '');

/**
 * The scopes that cover a desired subscription's resource, or why none can (then the gap is reported to
 * consumers with a resync event instead of being filled).
 */
export function scopesOf(desired: DesiredSubscription): { scopes: BackfillScope[] } | { unsupported: string } {
  const [path = '', query = ''] = desired.resource.split('?', 2);
  const narrowed = [...new URLSearchParams(query).keys()].find((k) => k === '$search' || k === '$filter');
  // A listing cannot be narrowed the same way: reading it back would hand consumers more than they subscribed to.
  if (narrowed) return { unsupported: `the read APIs cannot apply the subscription's ${narrowed}` };
  const parts = path.split('/');
  switch (desired.catalog.kind) {
    case 'chatMessage':
      if (/^\/chats\/[^/]+\/messages$/.test(path)) return { scopes: [{ kind: 'chatMessages', chatId: segment(path, 2) }] };
      if (/^\/users\/[^/]+\/chats\/getAllMessages$/.test(path)) return { scopes: [{ kind: 'userChatMessages', userId: segment(path, 2) }] };
      if (path === '/chats/getAllMessages') return { scopes: [{ kind: 'plan' }] };
      return { unsupported: `no read API lists the messages of ${path}` };
    case 'channelMessage':
      if (/^\/teams\/[^/]+\/channels\/[^/]+\/messages$/.test(path)) return { scopes: [{ kind: 'channelMessages', teamId: segment(path, 2), channelId: segment(path, 4) }] };
      if (path === '/teams/getAllMessages') return { scopes: [{ kind: 'plan' }] };
      return { unsupported: `no read API lists the messages of ${path}` };
    case 'chat':
      if (path === '/chats') return { scopes: [{ kind: 'plan' }] };
      if (/^\/chats\/[^/]+$/.test(path)) return { scopes: [{ kind: 'chat', chatId: segment(path, 2) }] };
      if (/^\/users\/[^/]+\/chats$/.test(path)) return { scopes: [{ kind: 'userChats', userId: segment(path, 2) }] };
      return { unsupported: `no read API lists the chats of ${path}` };
    case 'chatMember':
      if (/^\/chats\/[^/]+\/members$/.test(path)) return { scopes: [{ kind: 'chatMembershipHistory', chatId: segment(path, 2) }] };
      if (path === '/chats/getAllMembers') return { scopes: [{ kind: 'plan' }] };
      return { unsupported: `no read API lists the chats of ${parts.slice(0, 5).join('/')}` };
  }
}

const id = z.string().min(1);
const pieceSchema = z.strictObject({
  schema: z.literal(BACKFILL_PIECE_SCHEMA),
  gapId: id,
  name: id,
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  next: z.url().optional(),
  requeues: z.number().int().min(0).optional(),
  scope: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('plan') }),
    z.strictObject({ kind: z.literal('chatMessages'), chatId: id }),
    z.strictObject({ kind: z.literal('userChatMessages'), userId: id }),
    z.strictObject({ kind: z.literal('teamChannelMessages'), teamId: id }),
    z.strictObject({ kind: z.literal('channelMessages'), teamId: id, channelId: id }),
    z.strictObject({ kind: z.literal('userChats'), userId: id }),
    z.strictObject({ kind: z.literal('chat'), chatId: id }),
    z.strictObject({ kind: z.literal('userChatsMembership'), userId: id }),
    z.strictObject({ kind: z.literal('chatMembers'), chatId: id }),
    z.strictObject({ kind: z.literal('chatMembershipHistory'), chatId: id }),
    z.strictObject({ kind: z.literal('userMembershipHistory'), userId: id }),
  ]),
});

/** The piece a backfill queue message holds, or undefined when it is not one. */
export function parseBackfillPiece(value: unknown): BackfillPiece | undefined {
  const parsed = pieceSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
