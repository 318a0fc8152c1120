import { readSettings } from '../../shared/config/settings.js';
import { createNotificationReceiver } from '../../shared/receive/create-notification-receiver.js';

/**
 * The composition root of the function app: settings are read and validated once, when the host loads
 * the function files; a bad setting stops start-up with a message naming it.
 */
export const settings = readSettings(process.env);
export const notificationReceiver = createNotificationReceiver(settings);
