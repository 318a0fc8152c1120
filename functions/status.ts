import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { renderStatusPage } from '../shared/status/status-page.js';
import { runtime, withInvocationLog } from './adapters/runtime.js';

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
};

/**
 * The operator's page: the verdict and its reasons, the tenants, delay and throughput charts, self-checks, subscriptions,
 * queues, dead letters, counters, as one HTML page that reloads itself (inline SVG, no script).
 * `admin`: in Azure only the master key (`?code=` or `x-functions-key`) opens it; locally, like every
 * function under Core Tools or the local host, it is open.
 */
export function statusPage(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withInvocationLog(context, async (logger): Promise<HttpResponseInit> => {
    try {
      return { status: 200, headers: PAGE_HEADERS, body: renderStatusPage(await runtime().readStatus()) };
    } catch (e) {
      logger.error('status.unavailable', { error: (e as Error).message });
      return { status: 503, headers: { 'retry-after': '30', 'content-type': 'text/plain; charset=utf-8' }, body: 'Status unavailable: storage did not answer.' };
    }
  });
}

app.http('status', {
  methods: ['GET'],
  authLevel: 'admin',
  route: 'status',
  handler: statusPage,
});
