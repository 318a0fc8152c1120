import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { loopbackCertificate } from '../tls/loopback-certificate.js';
import { ingestionAuthorizer, type IngestionCaller, type IngestionEntra } from './ingestion-auth.js';
import { readBatch, refusalOf, statusOf, type Envelope, type TrackResponse } from './track-batch.js';

export type { Envelope, TrackResponse } from './track-batch.js';
export type { IngestionEntra } from './ingestion-auth.js';

export interface IngestionStandInOptions {
  /** The resource's instrumentation key (a GUID); a new one unless given, so no exporter's offline store of another run reaches it. */
  readonly instrumentationKey?: string;
  /** Entra authentication: tokens from these keys, and the principals holding Monitoring Metrics Publisher. */
  readonly entra?: IngestionEntra;
  readonly port?: number;
}

/** One request the stand-in answered, for a test to assert on (never the token itself). */
export interface IngestionRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** Whether it carried an `Authorization` header. */
  readonly bearer: boolean;
  /** The publisher its token was verified for, when it was. */
  readonly principalId?: string;
  /** Track requests: how many items it held and how many were taken. */
  readonly itemsReceived?: number;
  readonly itemsAccepted?: number;
}

/**
 * Application Insights' ingestion on loopback HTTPS (the exporter insists on https), serving the loopback
 * certificate: `POST /v2.1/track` and `/v2/track` take telemetry as the service does, and Live Metrics'
 * `QuickPulseService.svc/ping` and `/post` answer that no one is watching. `connectionString` points an
 * exporter at it (ingestion and live endpoints both).
 */
export interface IngestionStandIn {
  readonly url: string;
  readonly instrumentationKey: string;
  readonly connectionString: string;
  /** Items taken, in order of arrival. */
  readonly items: Envelope[];
  readonly requests: IngestionRequest[];
  close(): Promise<void>;
}

/** Live Metrics' answer when no one watches the stream: the exporter keeps pinging and sends nothing more. */
const LIVE_METRICS_IDLE = { ETag: '', Metrics: [], DocumentStreams: [], QuotaInfo: null };

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
}

/**
 * Starts the stand-in. A track request is authorized first (see `ingestionAuthorizer`: 401 or 403 refuse every
 * item with that status), then each item is checked: a JSON object with `name`, a valid `time` and the
 * resource's `iKey` (else 400 "Invalid instrumentation key"). The answer is `{ itemsReceived, itemsAccepted,
 * errors: [{ index, statusCode, message }] }`: 200 when all were taken, 206 when some were, the items' status
 * when none were. A body that cannot be read at all: 400.
 */
export async function startIngestionStandIn(options: IngestionStandInOptions = {}): Promise<IngestionStandIn> {
  const tls = await loopbackCertificate();
  const instrumentationKey = options.instrumentationKey ?? randomUUID();
  const authorize = ingestionAuthorizer(options.entra);
  const items: Envelope[] = [];
  const requests: IngestionRequest[] = [];

  const track = (caller: IngestionCaller, batch: unknown[] | undefined): TrackResponse => {
    if (batch === undefined) return { itemsReceived: 0, itemsAccepted: 0, errors: [{ index: 0, statusCode: 400, message: 'The request body could not be read as JSON.' }] };
    if ('status' in caller) {
      return { itemsReceived: batch.length, itemsAccepted: 0, errors: batch.map((_, index) => ({ index, statusCode: caller.status, message: caller.message })) };
    }
    const errors: TrackResponse['errors'] = [];
    batch.forEach((item, index) => {
      const refusal = refusalOf(item, instrumentationKey);
      if (refusal) errors.push({ index, statusCode: 400, message: refusal });
      else items.push(item as Envelope);
    });
    return { itemsReceived: batch.length, itemsAccepted: batch.length - errors.length, errors };
  };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://ingestion');
    const path = url.pathname.replace(/\/{2,}/g, '/');
    const body = await bodyOf(req);
    const caller = await authorize(req.headers.authorization);
    const seen = {
      method: req.method ?? '',
      path,
      bearer: req.headers.authorization !== undefined,
      ...('principalId' in caller && caller.principalId ? { principalId: caller.principalId } : {}),
    };
    if (path === '/v2.1/track' || path === '/v2/track') {
      if (req.method !== 'POST') {
        requests.push({ ...seen, status: 405 });
        return send(res, 405, { itemsReceived: 0, itemsAccepted: 0, errors: [{ index: 0, statusCode: 405, message: 'Only POST is accepted.' }] });
      }
      const response = track(caller, readBatch(body, req.headers['content-encoding']));
      const status = statusOf(response);
      requests.push({ ...seen, status, itemsReceived: response.itemsReceived, itemsAccepted: response.itemsAccepted });
      return send(res, status, response);
    }
    if (req.method === 'POST' && /^\/QuickPulseService\.svc\/(ping|post)$/.test(path)) {
      const refused =
        'status' in caller ? caller : url.searchParams.get('ikey')?.toLowerCase() !== instrumentationKey.toLowerCase() ? { status: 400, message: 'Invalid instrumentation key' } : undefined;
      requests.push({ ...seen, status: refused?.status ?? 200 });
      if (refused) {
        return send(res, refused.status, { RequestId: randomUUID(), ResponseDateTime: new Date().toISOString(), Code: String(refused.status), Message: refused.message, Exception: '' });
      }
      return send(res, 200, LIVE_METRICS_IDLE, { 'x-ms-qps-subscribed': 'false' });
    }
    requests.push({ ...seen, status: 404 });
    send(res, 404, { itemsReceived: 0, itemsAccepted: 0, errors: [{ index: 0, statusCode: 404, message: `No such endpoint: ${path}` }] });
  };

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    serve(req, res).catch((e: Error) => send(res, 500, { itemsReceived: 0, itemsAccepted: 0, errors: [{ index: 0, statusCode: 500, message: e.message }] }));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `https://127.0.0.1:${port}/`;
  return {
    url,
    instrumentationKey,
    connectionString: `InstrumentationKey=${instrumentationKey};IngestionEndpoint=${url};LiveEndpoint=${url}`,
    items,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
