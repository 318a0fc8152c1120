import { app } from '@azure/functions';
import { receiveOverHttp } from './adapters/http-receive.js';
import { notificationReceiver, withInvocationLog } from './adapters/runtime.js';

/** notificationUrl: Graph's change notifications (and the validation handshake). */
app.http('notifications', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'notifications',
  handler: (request, context) => withInvocationLog(context, (logger) => receiveOverHttp(notificationReceiver, 'notifications', request, logger)),
});
