import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueService, testAzurite, type AzuriteProcess } from '../helpers/azurite.js';
import { startFakeIngestion, type Envelope, type FakeIngestion } from '../helpers/fake-ingestion.js';
import { REPO_ROOT, startHost, type HostProcess } from '../helpers/local-host-process.js';
import { queueUndecryptableNotification } from '../helpers/notifications.js';
import { eventually } from '../helpers/eventually.js';

let azurite: AzuriteProcess;
let ingestion: FakeIngestion;
let host: HostProcess;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tcr-app-insights-'));
  azurite = await testAzurite();
  ingestion = await startFakeIngestion();
  const ca = join(dir, 'ingestion-ca.pem');
  writeFileSync(ca, ingestion.tlsCa);
  host = await startHost(REPO_ROOT, {
    AzureWebJobsStorage: azurite.connectionString,
    LOCAL_CERTIFICATE_DIR: join(dir, 'certs'),
    APPLICATIONINSIGHTS_CONNECTION_STRING: ingestion.connectionString,
    NODE_EXTRA_CA_CERTS: ca,
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
  });
});
