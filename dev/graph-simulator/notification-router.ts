import type { OutgoingNotification } from './delivery.js';
import { encryptResourceData } from './encrypt-resource-data.js';
import type { SimSubscription } from './subscriptions.js';
import type { ChangeEvent } from './teams-directory.js';
import { chatNotificationJson, graphDateTime, memberJson, messageJson, plainText, tenantsOfChat, type SimChat, type SimUser } from './teams-model.js';

const isMember = (chat: SimChat, userId: string | undefined) => !!userId && [...chat.members.values()].some((m) => m.userId === userId);

/**
 * The tenants whose subscriptions see a change: a team's own; a chat's own and the home tenant of each of its
 * members (a cross-tenant chat is seen by each member's tenant), the member a change removed included.
 */
function tenantsSeeing(event: ChangeEvent): Set<string> {
  if (event.kind === 'channelMessage') return new Set([event.team.tenantId]);
  const tenants = tenantsOfChat(event.chat);
  if (event.kind === 'member') tenants.add(event.member.tenantId ?? event.chat.tenantId);
  return tenants;
}

/** Does this subscription see this change? Resource scope, changeType, tenant, $search, mentions filter. */
export function matches(s: SimSubscription, event: ChangeEvent): boolean {
  const { entry, ids, search, mentionedUserId } = s.parsed;
  if (entry.kind !== event.kind || !s.changeTypes.includes(event.changeType)) return false;
  if (!tenantsSeeing(event).has(s.tenantId)) return false;
  const path = s.parsed.path;

  if (event.kind === 'chat' && event.userSpecificFor !== undefined) {
    // A change of one user's view (hiding) goes only to user-specific subscriptions of that user.
    if (!s.parsed.notifyOnUserSpecificProperties || s.userId !== event.userSpecificFor) return false;
  }

  if (event.kind === 'channelMessage') {
    if (ids.teamId && (ids.teamId !== event.team.id || ids.channelId !== event.channel.id)) return false;
  } else {
    const chat = event.chat;
    if (ids.chatId && ids.chatId !== chat.id) return false;
    if (ids.appId && !chat.installedApps.has(ids.appId)) return false;
    if (path.includes('/users/') || path.startsWith('/me/')) {
      const member = event.kind === 'member' ? event.member.userId === s.userId || isMember(chat, s.userId) : isMember(chat, s.userId);
      if (!member) return false;
    }
  }

  if (event.kind === 'chatMessage' || event.kind === 'channelMessage') {
    if (search !== undefined && !plainText(event.message.body).toLowerCase().includes(search.toLowerCase())) return false;
    if (mentionedUserId !== undefined && !event.message.mentions.some((m) => m.userId === mentionedUserId)) return false;
  }
  return true;
}

/** The notification's `resource`, `@odata.type`, `@odata.id` and id, as Graph writes them. */
export function resourceOf(event: ChangeEvent): { resource: string; odataType: string; id: string } {
  switch (event.kind) {
    case 'chat':
      return { resource: `chats('${event.chat.id}')`, odataType: '#microsoft.graph.chat', id: event.chat.id };
    case 'member':
      return { resource: `chats('${event.chat.id}')/members('${event.member.id}')`, odataType: '#microsoft.graph.aadUserConversationMember', id: event.member.id };
    case 'chatMessage':
      return { resource: `chats('${event.chat.id}')/messages('${event.message.id}')`, odataType: '#Microsoft.Graph.chatMessage', id: event.message.id };
    case 'channelMessage': {
      const base = `teams('${event.team.id}')/channels('${event.channel.id}')/messages`;
      const m = event.message;
      return {
        resource: m.replyToId ? `${base}('${m.replyToId}')/replies('${m.id}')` : `${base}('${m.id}')`,
        odataType: '#Microsoft.Graph.chatMessage',
        id: m.id,
      };
    }
  }
}

/** The resource as a GET of it returns it, seen by `viewer` when the subscription is user-specific. */
export function payloadOf(event: ChangeEvent, users: ReadonlyMap<string, SimUser>, viewer?: string): Record<string, unknown> {
  switch (event.kind) {
    case 'chat':
      return chatNotificationJson(event.chat, users, viewer);
    case 'member':
      return memberJson(event.member, users.get(event.member.userId), event.chat.tenantId);
    case 'chatMessage':
      return messageJson(event.message, users, event.chat.tenantId);
    case 'channelMessage':
      return messageJson(event.message, users, event.team.tenantId);
  }
}

/**
 * The changeType as Graph writes it: capitalised (`Created`) for chats and chat members, as in Graph's chat
 * and membership notification examples; lower case for messages.
 */
const changeTypeOf = (event: ChangeEvent) => (event.kind === 'chat' || event.kind === 'member' ? event.changeType[0]!.toUpperCase() + event.changeType.slice(1) : event.changeType);

/**
 * One notification per matching subscription, grouped by the URL it goes to. A user-specific chat subscription
 * (`notifyOnUserSpecificProperties=true`) with resource data gets two: one whose payload is only the
 * user-specific subset (`id`, `viewpoint`) and one with the whole chat as that user sees it.
 * `subscriptionExpirationDateTime` is written with an offset and seven fractional digits, as Graph does.
 */
export function notificationsFor(event: ChangeEvent, subscriptions: readonly SimSubscription[], users: ReadonlyMap<string, SimUser>): Map<string, OutgoingNotification[]> {
  const byUrl = new Map<string, OutgoingNotification[]>();
  const { resource, odataType, id } = resourceOf(event);
  for (const s of subscriptions) {
    if (!matches(s, event)) continue;
    const item = (): Record<string, unknown> => ({
      subscriptionId: s.id,
      changeType: changeTypeOf(event),
      ...(s.clientState !== null ? { clientState: s.clientState } : {}),
      subscriptionExpirationDateTime: graphDateTime(s.expirationMs),
      resource,
      resourceData: { id, '@odata.type': odataType, '@odata.id': resource },
      tenantId: s.tenantId,
    });
    const outgoing: OutgoingNotification[] = [];
    if (s.includeResourceData && s.certificate) {
      const viewer = s.parsed.notifyOnUserSpecificProperties ? s.userId : undefined;
      const payload = payloadOf(event, users, viewer);
      const payloads = viewer && event.kind === 'chat' ? [{ id: payload.id, '@odata.type': odataType, viewpoint: payload.viewpoint }, payload] : [payload];
      for (const p of payloads) outgoing.push({ item: { ...item(), encryptedContent: encryptResourceData(p, s.certificate) }, tokenFor: { appId: s.applicationId, tenantId: s.tenantId } });
    } else {
      outgoing.push({ item: item() });
    }
    const list = byUrl.get(s.notificationUrl) ?? [];
    list.push(...outgoing);
    byUrl.set(s.notificationUrl, list);
  }
  return byUrl;
}
