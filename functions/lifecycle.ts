import { app } from '@azure/functions';
import { receiveOverHttp } from './adapters/http-receive.js';
import { notificationReceiver, withInvocationLog } from './adapters/runtime.js';

/** lifecycleNotificationUrl: reauthorizationRequired, subscriptionRemoved, missed (and the handshake). */
app.http('lifecycle', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'lifecycle',
  handler: (request, context) => withInvocationLog(context, (logger) => receiveOverHttp(notificationReceiver, 'lifecycle', request, logger)),
});
