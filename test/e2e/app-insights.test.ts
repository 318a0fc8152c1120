import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIngestionStandIn, type Envelope, type IngestionStandIn } from '../../dev/app-insights/ingestion-stand-in.js';
import { loopbackCertificate } from '../../dev/tls/loopback-certificate.js';
import { queueService, testAzurite, type AzuriteProcess } from '../helpers/azurite.js';
import { REPO_ROOT, startHost, type HostProcess } from '../helpers/local-host-process.js';
import { queueUndecryptableNotification } from '../helpers/notifications.js';
import { eventually } from '../helpers/eventually.js';
import { nonEmpty } from '../helpers/non-empty.js';

let azurite: AzuriteProcess;
let ingestion: IngestionStandIn;
let host: HostProcess;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tcr-app-insights-'));
  azurite = await testAzurite();
  ingestion = await startIngestionStandIn();
  host = await startHost(REPO_ROOT, {
    AzureWebJobsStorage: azurite.connectionString,
    LOCAL_CERTIFICATE_DIR: join(dir, 'certs'),
    APPLICATIONINSIGHTS_CONNECTION_STRING: ingestion.connectionString,
    NODE_EXTRA_CA_CERTS: (await loopbackCertificate()).caFile,
    // OpenTelemetry's own settings: export every second rather than every minute.
    OTEL_METRIC_EXPORT_INTERVAL: '1000',
    OTEL_BLRP_SCHEDULE_DELAY: '200',
  });
}, 120_000);

afterAll(async () => {
  await host?.stop();
  await ingestion?.close();
  await azurite?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const waitForItem = (what: string, match: (e: Envelope) => boolean): Promise<Envelope> =>
  eventually(
    () => ingestion.items.find(match),
    () => `${what}; received: ${ingestion.items.map((i) => i.name).join(', ')}`,
    { timeoutMs: 120_000, intervalMs: 100 },
  );

describe("with APPLICATIONINSIGHTS_CONNECTION_STRING, through Azure Monitor's OpenTelemetry distro", () => {
  it('sends each invocation log line with its fields as properties, and the counters as metrics', async () => {
    await queueUndecryptableNotification(queueService(azurite).getQueueClient('graph-notifications'));
    const line = await waitForItem('the dead-letter log record', (e) => e.data?.baseData?.message === 'route.dead_lettered');
    expect(line.data?.baseData?.properties).toMatchObject({
      event: 'route.dead_lettered',
      reason: 'unknown_certificate',
      'faas.name': 'routeNotifications',
      deadLetterQueue: 'graph-notifications-deadletter',
    });
    expect(line.data?.baseData?.properties?.['faas.invocation_id']).toMatch(/^[0-9a-f-]{36}$/);
    const metric = await waitForItem('the dead-letter counter', (e) => e.data?.baseData?.metrics?.some((m) => m.name === 'relay.dead_letters') === true);
    expect(metric.data?.baseData?.properties).toEqual({ reason: 'unknown_certificate' });
    expect(metric.data?.baseData?.metrics?.find((m) => m.name === 'relay.dead_letters')?.value).toBe(1);
    // Every item the exporter sent was one ingestion takes (its key, a name and a time), and Live Metrics was answered.
    expect(nonEmpty(ingestion.requests).map((r) => `${r.path} ${r.status}`)).toEqual(ingestion.requests.map((r) => `${r.path} 200`));
  });
});
