import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { Logger } from '../../shared/log.js';
import type { NotificationReceiver } from '../../shared/receive/notification-receiver.js';

/** Adapts an HTTP trigger to the receiver: request in, receiver call, response out. */
export async function receiveOverHttp(receiver: NotificationReceiver, endpoint: string, request: HttpRequest, logger: Logger): Promise<HttpResponseInit> {
  const declared = request.headers.get('content-length');
  const response = await receiver.receive(
    {
      validationToken: request.query.get('validationToken'),
      contentType: request.headers.get('content-type'),
      contentLength: declared !== null && /^\d+$/.test(declared) ? Number(declared) : null,
      readBody: async () => new Uint8Array(await request.arrayBuffer()),
    },
    endpoint,
    logger,
  );
  return { status: response.status, headers: { ...response.headers }, ...(response.body !== undefined ? { body: response.body } : {}) };
}
