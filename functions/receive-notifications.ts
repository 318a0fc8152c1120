import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { receiveOverHttp } from './adapters/http-receive.js';
import { runtime, withInvocationLog } from './adapters/runtime.js';

/** notificationUrl: Graph's change notifications (and the validation handshake). */
export function receiveNotifications(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withInvocationLog(context, (logger) => receiveOverHttp(runtime().notificationReceiver, 'notifications', request, logger));
}

app.http('notifications', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'notifications',
  handler: receiveNotifications,
});
