import type { ChangeNotification } from '../protocol/notification.js';
import type { MembershipHistoryEntry } from './membership-history.js';

/** A change read back from Graph, shaped as the notification Graph would have sent for it. */
export interface ReadBackChange {
  readonly notification: ChangeNotification;
  readonly resource: Record<string, unknown>;
}

/** An id as an OData key literal in a resource path (`'` doubled). */
const key = (id: string) => `'${id.replace(/'/g, "''")}'`;
const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
const within = (t: string | undefined, from: number, to: number) => t !== undefined && Date.parse(t) >= from && Date.parse(t) <= to;

/**
 * The changeType a listing implies: soft-deleted → deleted; never modified since creation → created; else
 * updated. (A message created and edited within the window is one `updated` event: its last state.)
 */
function changeTypeOf(resource: Record<string, unknown>, modifiedProperty: 'lastModifiedDateTime' | 'lastUpdatedDateTime'): 'created' | 'updated' | 'deleted' {
  if (str(resource.deletedDateTime)) return 'deleted';
  const created = str(resource.createdDateTime);
  const modified = str(resource[modifiedProperty]);
  return created !== undefined && (modified === undefined || Date.parse(modified) === Date.parse(created)) ? 'created' : 'updated';
}

function notificationFor(resourcePath: string, odataType: string, id: string, changeType: string, subscriptionId: string, tenantId: string): ChangeNotification {
  return { subscriptionId, tenantId, changeType, resource: resourcePath, resourceData: { id, '@odata.type': odataType, '@odata.id': resourcePath } };
}

/**
 * A chat or channel message from a listing (`/chats/{id}/messages`, `getAllMessages`, `messages/delta`),
 * when it changed within `[from, to]` (ms). Listings are supersets (Graph's own filters are loose), so
 * the window is checked again here.
 */
export function changeFromMessage(message: Record<string, unknown>, window: { from: number; to: number }, subscriptionId: string, tenantId: string): ReadBackChange | undefined {
  const id = str(message.id);
  if (!id || !within(str(message.lastModifiedDateTime) ?? str(message.createdDateTime), window.from, window.to)) return undefined;
  const chatId = str(message.chatId);
  const channel = message.channelIdentity as { teamId?: string; channelId?: string } | undefined;
  let path: string;
  if (chatId) path = `chats(${key(chatId)})/messages(${key(id)})`;
  else if (channel?.teamId && channel.channelId) {
    const base = `teams(${key(channel.teamId)})/channels(${key(channel.channelId)})/messages`;
    const parent = str(message.replyToId);
    path = parent ? `${base}(${key(parent)})/replies(${key(id)})` : `${base}(${key(id)})`;
  } else return undefined;
  return { notification: notificationFor(path, '#Microsoft.Graph.chatMessage', id, changeTypeOf(message, 'lastModifiedDateTime'), subscriptionId, tenantId), resource: message };
}

/** A chat from `/users/{id}/chats` or `/chats/{id}`, when it was created or changed within the window. */
export function changeFromChat(chat: Record<string, unknown>, window: { from: number; to: number }, subscriptionId: string, tenantId: string): ReadBackChange | undefined {
  const id = str(chat.id);
  if (!id || !within(str(chat.lastUpdatedDateTime) ?? str(chat.createdDateTime), window.from, window.to)) return undefined;
  const path = `chats(${key(id)})`;
  return { notification: notificationFor(path, '#microsoft.graph.chat', id, changeTypeOf(chat, 'lastUpdatedDateTime'), subscriptionId, tenantId), resource: chat };
}

/** A membership change found by comparing a chat's members with the last known membership. */
export function changeFromMember(chatId: string, membershipId: string, member: Record<string, unknown>, changeType: 'created' | 'deleted', subscriptionId: string, tenantId: string): ReadBackChange {
  const path = `chats(${key(chatId)})/members(${key(membershipId)})`;
  return { notification: notificationFor(path, '#microsoft.graph.aadUserConversationMember', membershipId, changeType, subscriptionId, tenantId), resource: member };
}

/**
 * A membership change read from a chat's history (a system event message): the member's resource as far as
 * the history tells it (no roles, no email), with `lastModifiedDateTime` the change's own time, so the event's
 * `time` is when the change happened and every read of the same change (two users' listings, two gaps) is one
 * event id. `membershipId`: the remembered one, else formed (formedMembershipId).
 */
export function changeFromMembershipHistory(entry: MembershipHistoryEntry, membershipId: string, subscriptionId: string, tenantId: string): ReadBackChange {
  const resource: Record<string, unknown> = {
    '@odata.type': '#microsoft.graph.aadUserConversationMember',
    id: membershipId,
    displayName: entry.displayName,
    userId: entry.userId,
    tenantId: entry.tenantId ?? tenantId,
    ...(entry.visibleHistoryStartDateTime ? { visibleHistoryStartDateTime: entry.visibleHistoryStartDateTime } : {}),
    lastModifiedDateTime: entry.at,
  };
  return changeFromMember(entry.chatId, membershipId, resource, entry.changeType, subscriptionId, tenantId);
}
