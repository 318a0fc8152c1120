import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { tlsCertificate } from '../../dev/key-vault/key-vault-stand-in.js';

/** One telemetry item as Application Insights' ingestion (`/v2.1/track`) receives it. */
export interface Envelope {
  readonly name: string;
  readonly data?: { baseType?: string; baseData?: { message?: string; properties?: Record<string, string>; metrics?: { name: string; value: number }[] } };
}

/**
 * Application Insights' ingestion endpoint on loopback HTTPS (the exporter insists on https): it accepts
 * every batch and keeps its items. `connectionString` points an exporter at it; `tlsCa` is the PEM to trust
 * (NODE_EXTRA_CA_CERTS for a child process).
 */
export interface FakeIngestion {
  readonly connectionString: string;
  readonly tlsCa: string;
  readonly items: Envelope[];
  close(): Promise<void>;
}

export async function startFakeIngestion(): Promise<FakeIngestion> {
  const tls = await tlsCertificate();
  const items: Envelope[] = [];
  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const text = (req.headers['content-encoding'] === 'gzip' || raw[0] === 0x1f ? gunzipSync(raw) : raw).toString('utf8');
      const parsed = text.trim().startsWith('[')
        ? (JSON.parse(text) as Envelope[])
        : text
            .split('\n')
            .filter((l) => l.trim())
            .map((l) => JSON.parse(l) as Envelope);
      if (req.url?.startsWith('/v2.1/track')) items.push(...parsed);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ itemsReceived: parsed.length, itemsAccepted: parsed.length, errors: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    connectionString: `InstrumentationKey=00000000-0000-4000-8000-000000000000;IngestionEndpoint=https://127.0.0.1:${port}/;LiveEndpoint=https://127.0.0.1:${port}/`,
    tlsCa: tls.cert,
    items,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
