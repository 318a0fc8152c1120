import { randomUUID } from 'node:crypto';

/** A change notification for a new chat message, as Graph sends it without resource data. */
export function chatMessageNotification(o: { clientState: string; tenantId: string; id?: string }): Record<string, unknown> {
  const chat = '19:2da4c29f6d7041eca70b638b43d45437@thread.v2';
  const messageId = String(Date.now());
  return {
    ...(o.id ? { id: o.id } : {}),
    subscriptionId: randomUUID(),
    subscriptionExpirationDateTime: new Date(Date.now() + 3_600_000).toISOString(),
    changeType: 'created',
    clientState: o.clientState,
    resource: `chats('${chat}')/messages('${messageId}')`,
    resourceData: { id: messageId, '@odata.type': '#Microsoft.Graph.chatMessage', '@odata.id': `chats('${chat}')/messages('${messageId}')` },
    tenantId: o.tenantId,
  };
}
