import { readSettings } from '../../shared/config/settings.js';
import { describeStorage } from '../../shared/config/storage-connection.js';
import { createJsonLogger } from '../../shared/log.js';
import { createNotificationReceiver } from '../../shared/receive/create-notification-receiver.js';

/**
 * The composition root of the function app: settings are read and validated once, when the host loads
 * the function files; a bad setting stops start-up with a message naming it.
 */
export const settings = readSettings(process.env);
export const notificationReceiver = createNotificationReceiver(settings);

createJsonLogger().info('app.configured', {
  environment: settings.environment,
  storage: describeStorage(settings.storage),
  notificationsQueue: settings.notificationsQueue,
  lifecycleQueue: settings.lifecycleQueue,
  claimCheckContainer: settings.notificationsContainer,
  jwksUrl: settings.jwksUrl.href,
  tenants: settings.tenantIds.length,
  clientStateSecrets: settings.clientStates.length,
});
