import { z } from 'zod';

/**
 * The shapes Microsoft Graph POSTs to notificationUrl and lifecycleNotificationUrl.
 * Unknown properties are kept (`loose`): Graph adds fields over time and downstream consumers get them all.
 */

export const encryptedContentSchema = z.looseObject({
  data: z.string().min(1),
  dataKey: z.string().min(1),
  dataSignature: z.string().min(1),
  encryptionCertificateId: z.string().min(1).max(128),
  encryptionCertificateThumbprint: z.string().optional(),
});

const common = {
  id: z.string().optional(),
  subscriptionId: z.string().min(1).max(128),
  subscriptionExpirationDateTime: z.string().optional(),
  tenantId: z.string().min(1).max(64),
  clientState: z.string().nullable().optional(),
};

export const changeNotificationSchema = z.looseObject({
  ...common,
  changeType: z.string().min(1),
  resource: z.string().min(1),
  resourceData: z.looseObject({}).optional(),
  encryptedContent: encryptedContentSchema.optional(),
  lifecycleEvent: z.undefined().optional(),
});

export const lifecycleNotificationSchema = z.looseObject({
  ...common,
  lifecycleEvent: z.string().min(1),
  resource: z.string().optional(),
});

export const notificationItemSchema = z.union([lifecycleNotificationSchema, changeNotificationSchema]);

export const notificationCollectionSchema = z.looseObject({
  value: z.array(notificationItemSchema).min(1),
  validationTokens: z.array(z.string().min(1)).optional(),
});

export type EncryptedContent = z.infer<typeof encryptedContentSchema>;
export type ChangeNotification = z.infer<typeof changeNotificationSchema>;
export type LifecycleNotification = z.infer<typeof lifecycleNotificationSchema>;
export type NotificationItem = z.infer<typeof notificationItemSchema>;
export type NotificationCollection = z.infer<typeof notificationCollectionSchema>;

export function isLifecycleNotification(item: NotificationItem): item is LifecycleNotification {
  return typeof (item as LifecycleNotification).lifecycleEvent === 'string';
}

/** The app id of "Microsoft Graph Change Tracking", the only caller we accept validation tokens from. */
export const GRAPH_CHANGE_TRACKING_APP_ID = '0bf30f3b-4a52-48df-9a82-234910c4a086';
