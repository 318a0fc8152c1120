import { app, type HttpResponseInit } from '@azure/functions';
import { renderStatusPage } from '../shared/status/status-page.js';
import { readStatus, withInvocationLog } from './adapters/runtime.js';

/**
 * The operator's page: subscriptions, queues, dead letters, counters, as one HTML page that reloads itself.
 * `admin`: in Azure only the master key (`?code=` or `x-functions-key`) opens it; locally, like every
 * function under Core Tools or the local host, it is open.
 */
app.http('status', {
  methods: ['GET'],
  authLevel: 'admin',
  route: 'status',
  handler: (_request, context) =>
    withInvocationLog(context, async (logger): Promise<HttpResponseInit> => {
      try {
        const page = renderStatusPage(await readStatus());
        return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" }, body: page };
      } catch (e) {
        logger.error('status.unavailable', { error: (e as Error).message });
        return { status: 503, headers: { 'retry-after': '30', 'content-type': 'text/plain; charset=utf-8' }, body: 'Status unavailable: storage did not answer.' };
      }
    }),
});
