import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { receiveOverHttp } from './adapters/http-receive.js';
import { runtime } from './adapters/runtime.js';

/** notificationUrl: Graph's change notifications (and the validation handshake). */
export async function receiveNotifications(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return receiveOverHttp(runtime().notificationReceiver, 'notifications', request, context);
}

app.http('notifications', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'notifications',
  handler: receiveNotifications,
});
