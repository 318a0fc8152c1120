import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { receiveOverHttp } from './adapters/http-receive.js';
import { runtime, withInvocationLog } from './adapters/runtime.js';

/** lifecycleNotificationUrl: reauthorizationRequired, subscriptionRemoved, missed (and the handshake). */
export function receiveLifecycle(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withInvocationLog(context, (logger) => receiveOverHttp(runtime().notificationReceiver, 'lifecycle', request, logger));
}

app.http('lifecycle', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'lifecycle',
  handler: receiveLifecycle,
});
