import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatorAppSettings } from '../../dev/graph-simulator/app-settings.js';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { createApp } from '../../shared/app/create-app.js';
import { readSettings, type Settings } from '../../shared/config/settings.js';
import { createHealthChecker } from '../../shared/health/create-health-checker.js';
import { createRecordingLogger } from '../../shared/log.js';
import type { GaugeName } from '../../shared/metrics/otel-metrics.js';
import { createStatusReader } from '../../shared/status/create-status.js';
import { testAzurite, tempDir, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { testEnv } from '../helpers/notifications.js';

let azurite: AzuriteProcess;
let sim: GraphSimulator;
let certificates: ReturnType<typeof tempDir>;
let settings: Settings;

beforeAll(async () => {
  [azurite, sim] = await Promise.all([testAzurite(), startGraphSimulator()]);
  certificates = tempDir();
  const table = (prefix: string) => `${prefix}${Math.random().toString(36).slice(2, 10)}`;
  settings = readSettings(
    testEnv({
      AzureWebJobsStorage: azurite.connectionString,
      ...simulatorAppSettings(sim),
      LOCAL_CERTIFICATE_DIR: certificates.path,
      HEALTH_TABLE: table('health'),
      METRICS_TABLE: table('metrics'),
      BACKFILL_TABLE: table('backfill'),
      SUBSCRIPTIONS_TABLE: table('subs'),
      DEAD_LETTER_QUEUE: uniqueName('dead'),
    }),
  );
});
afterAll(async () => {
  await Promise.all([azurite?.stop(), sim?.close()]);
  certificates?.remove();
});

function checker() {
  const app = createApp(settings, { logger: createRecordingLogger() });
  const gauges: [GaugeName, number, Readonly<Record<string, string>> | undefined][] = [];
  const health = createHealthChecker(settings, { certificates: app.certificates, graph: app.subscriptions.graph, gauges: { set: (n, v, a) => void gauges.push([n, v, a]) } });
  return { health, gauges };
}

describe('checkHealth against the Graph simulator and Azurite', () => {
  it("reads the Graph client secret's end date from the app's own registration, and status shows the stored result", async () => {
    const { health, gauges } = checker();
    const first = await health.run(createRecordingLogger());
    const credential = first.results.find((r) => r.check === 'graph_credential');
    expect(credential?.status, credential?.message).toBe('ok');
    const daysLeft = gauges.find(([n, , a]) => n === 'relay.credential.days_left' && a?.credential === 'graph_client_secret')?.[1];
    expect(daysLeft).toBeGreaterThan(700);
    expect(first.results.find((r) => r.check === 'encryption_certificate')?.status).toBe('ok');

    // The secret now ends in five days: the check fails, and the verdict with it.
    sim.applications.setCredentials(sim.appId, { passwordCredentials: [{ hint: 'sim', displayName: 'relay', endDateTime: new Date(Date.now() + 5 * 86_400_000 + 60_000).toISOString() }] });
    const second = await health.run(createRecordingLogger());
    expect(second.results.find((r) => r.check === 'graph_credential')).toMatchObject({ status: 'fail', message: expect.stringMatching(/expires in 5 days/) });
    expect(second.health.verdict).toBe('failing');

    const status = await createStatusReader(settings)();
    expect(status.selfChecks.find((c) => c.check === 'graph_credential')).toMatchObject({ status: 'fail', fix: expect.stringMatching(/new client secret/) });
    expect(status.health.verdict).toBe('failing');
    expect(status.health.reasons.find((r) => r.source === 'graph_credential')?.level).toBe('failing');
  });

  it('skips the secret check, without failing, when the app may not read its registration', async () => {
    const before = sim.grants.of(sim.appId);
    sim.grants.set(sim.appId, { permissions: ['Chat.Read.All'] });
    try {
      const { results } = await checker().health.run(createRecordingLogger());
      expect(results.find((r) => r.check === 'graph_credential')).toMatchObject({ status: 'skipped', message: expect.stringMatching(/Application\.Read\.All/) });
    } finally {
      sim.grants.set(sim.appId, before);
    }
  });
});
