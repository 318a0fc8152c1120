import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIngestionStandIn, type IngestionRequest, type IngestionStandIn } from '../../dev/app-insights/ingestion-stand-in.js';
import { startManagedIdentityEndpoint, type ManagedIdentityEndpoint } from '../../dev/entra/managed-identity-endpoint.js';
import { loopbackCertificate } from '../../dev/tls/loopback-certificate.js';
import { queueService, testAzurite, type AzuriteProcess } from '../helpers/azurite.js';
import { eventually } from '../helpers/eventually.js';
import { REPO_ROOT, startHost, type HostProcess } from '../helpers/local-host-process.js';
import { nonEmpty } from '../helpers/non-empty.js';
import { queueUndecryptableNotification } from '../helpers/notifications.js';

/** The app's user-assigned identity: the Entra stand-in grants it nothing of its own; the resource decides. */
const APP_IDENTITY = { clientId: randomUUID(), principalId: randomUUID() };

let azurite: AzuriteProcess;
let mi: ManagedIdentityEndpoint;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tcr-app-insights-entra-'));
  azurite = await testAzurite();
  mi = await startManagedIdentityEndpoint({ tenantId: '11111111-1111-4111-8111-111111111111', identities: [APP_IDENTITY] });
});

afterAll(async () => {
  await mi?.close();
  await azurite?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The app on the local host with Application Insights as infra/ configures it: the resource's connection string,
 * and (unless `withIdentity` is false) the managed identity of APPLICATIONINSIGHTS_AUTHENTICATION_STRING, the
 * managed identity endpoint as App Service gives it. The exporter keeps what it could not send in the temporary
 * folder, so the child gets its own.
 */
async function startApp(ingestion: IngestionStandIn, name: string, withIdentity = true): Promise<HostProcess> {
  return startHost(REPO_ROOT, {
    AzureWebJobsStorage: azurite.connectionString,
    LOCAL_CERTIFICATE_DIR: join(dir, name, 'certs'),
    TMPDIR: join(dir, name),
    APPLICATIONINSIGHTS_CONNECTION_STRING: ingestion.connectionString,
    ...(withIdentity ? { APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `ClientId=${APP_IDENTITY.clientId};Authorization=AAD` } : {}),
    IDENTITY_ENDPOINT: mi.endpoint,
    IDENTITY_HEADER: mi.header,
    NODE_EXTRA_CA_CERTS: (await loopbackCertificate()).caFile,
    // OpenTelemetry's own settings: export every second rather than every minute.
    OTEL_METRIC_EXPORT_INTERVAL: '1000',
    OTEL_BLRP_SCHEDULE_DELAY: '200',
  });
}

/** Registers, for the enclosing describe, an ingestion stand-in with `publishers` and the app sending to it. */
function appSendingTo(name: string, publishers: readonly string[], withIdentity = true): { readonly ingestion: () => IngestionStandIn } {
  let ingestion: IngestionStandIn | undefined;
  let host: HostProcess | undefined;
  beforeAll(async () => {
    ingestion = await startIngestionStandIn({ entra: { jwksUrl: mi.jwksUrl, issuer: mi.issuer, publishers } });
    host = await startApp(ingestion, name, withIdentity);
  });
  afterAll(async () => {
    await host?.stop();
    await ingestion?.close();
  });
  return { ingestion: () => ingestion! };
}

const trackRequests = (ingestion: IngestionStandIn): IngestionRequest[] => ingestion.requests.filter((r) => r.path === '/v2.1/track');

/** The first track request answered with `status`, once the app has had something to log (a dead-lettered notification). */
async function firstTrackAnswered(ingestion: IngestionStandIn, status: number): Promise<IngestionRequest> {
  await queueUndecryptableNotification(queueService(azurite).getQueueClient('graph-notifications'));
  return eventually(
    () => trackRequests(ingestion).find((r) => r.status === status),
    () => `a track request answered ${status}; answered: ${ingestion.requests.map((r) => `${r.path} ${r.status}`).join(', ')}`,
    { timeoutMs: 120_000, intervalMs: 100 },
  );
}

describe("the app's telemetry to an Entra-only Application Insights resource, with its managed identity", () => {
  describe('holding Monitoring Metrics Publisher', () => {
    const app = appSendingTo('publisher', [APP_IDENTITY.principalId]);

    it('delivers its log records and counters, each request with a valid token of its identity', async () => {
      const ingestion = app.ingestion();
      await queueUndecryptableNotification(queueService(azurite).getQueueClient('graph-notifications'));
      const line = await eventually(
        () => ingestion.items.find((e) => e.data?.baseData?.message === 'route.dead_lettered'),
        () => `the dead-letter log record; requests: ${ingestion.requests.map((r) => `${r.path} ${r.status}`).join(', ')}`,
        { timeoutMs: 120_000, intervalMs: 100 },
      );
      expect(line.data?.baseData?.properties).toMatchObject({ event: 'route.dead_lettered', reason: 'unknown_certificate' });
      await eventually(() => ingestion.items.some((e) => e.data?.baseData?.metrics?.some((m) => m.name === 'relay.dead_letters')), 'the dead-letter counter', { timeoutMs: 120_000, intervalMs: 100 });
      expect(nonEmpty(trackRequests(ingestion)).map((r) => [r.status, r.principalId])).toEqual(trackRequests(ingestion).map(() => [200, APP_IDENTITY.principalId]));
      expect(mi.issued.get('https://monitor.azure.com')).toBeGreaterThan(0);
    });
  });

  describe('without the role', () => {
    const app = appSendingTo('no-role', []);

    it('is refused with 403 (its token is valid) and nothing of it is taken', async () => {
      const ingestion = app.ingestion();
      const refused = await firstTrackAnswered(ingestion, 403);
      expect(refused).toMatchObject({ bearer: true, itemsAccepted: 0 });
      expect(refused.itemsReceived).toBeGreaterThan(0);
      expect(nonEmpty(trackRequests(ingestion)).map((r) => r.status)).toEqual(trackRequests(ingestion).map(() => 403));
      expect(ingestion.items).toEqual([]);
    });
  });
});

describe('the app without APPLICATIONINSIGHTS_AUTHENTICATION_STRING, to an Entra-only resource', () => {
  const app = appSendingTo('key-only', [APP_IDENTITY.principalId], false);

  it('sends with the instrumentation key alone and is refused with 401; nothing is taken', async () => {
    const ingestion = app.ingestion();
    const refused = await firstTrackAnswered(ingestion, 401);
    expect(refused).toMatchObject({ bearer: false, itemsAccepted: 0 });
    expect(nonEmpty(trackRequests(ingestion)).map((r) => r.status)).toEqual(trackRequests(ingestion).map(() => 401));
    expect(ingestion.items).toEqual([]);
  });
});
