import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { receiveOverHttp } from './adapters/http-receive.js';
import { runtime } from './adapters/runtime.js';

/** lifecycleNotificationUrl: reauthorizationRequired, subscriptionRemoved, missed (and the handshake). */
export async function receiveLifecycle(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return receiveOverHttp(runtime().notificationReceiver, 'lifecycle', request, context);
}

app.http('lifecycle', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'lifecycle',
  handler: receiveLifecycle,
});
