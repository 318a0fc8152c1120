import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { thrown } from '../helpers/thrown.js';
import { ConfigError } from '../../shared/errors.js';
import { MICROSOFT_JWKS_URL, readSettings, SETTING_DEFINITIONS, settingValue } from '../../shared/config/settings.js';
import { readArea } from '../../shared/config/settings/define.js';
import { backfillSettings } from '../../shared/config/settings/backfill.js';
import { certificateSettings } from '../../shared/config/settings/certificates.js';
import { routeSettings } from '../../shared/config/settings/route.js';
import { readNotificationPartitions, storageTimeoutCapReason } from '../../shared/config/settings/receive.js';
import { bindingExpression, TRIGGER_SETTINGS, triggerSettingDefaults } from '../../shared/config/trigger-settings.js';
import { nonEmpty } from '../helpers/non-empty.js';
import { containerName, queueName, tableName } from '../../shared/config/settings/validators.js';
import { notificationQueueNames } from '../../shared/queue/notification-queues.js';
import { HOST_ALLOWANCE_MS, JWKS_FETCH_TIMEOUT_MS, MAX_STORAGE_TIMEOUT_MS, RECEIVER_DEADLINE_MS, VERIFY_ALLOWANCE_MS } from '../../shared/receive/answer-budget.js';
import { METRICS_WINDOW_HOURS } from '../../shared/status/status-snapshot.js';

const configError = (env: Record<string, string>) => thrown(ConfigError, () => readSettings(env));

describe('readSettings', () => {
  it('runs on built-in defaults in Development', () => {
    const s = readSettings({ AZURE_FUNCTIONS_ENVIRONMENT: 'Development' });
    expect(s.storage).toMatchObject({ kind: 'connectionString', development: true });
    expect(s.notificationsQueue).toBe('graph-notifications');
    expect(s.lifecycleQueue).toBe('graph-lifecycle');
    expect(s.jwksUrl.href).toBe(MICROSOFT_JWKS_URL);
    expect(s.clientStates).toHaveLength(1);
    expect(s.certificates).toEqual({ kind: 'local', folder: '.local/certificates' });
    expect(s.dedupWindowMinutes).toBe(1440);
  });

  it('names every missing required setting at once in Azure', () => {
    const e = configError({});
    expect(e.code).toBe('ERR_CONFIG');
    for (const name of ['AzureWebJobsStorage', 'GRAPH_CLIENT_STATE', 'GRAPH_APP_ID', 'GRAPH_TENANT_IDS', 'KEY_VAULT_URL']) {
      expect(e.message).toContain(name);
    }
    expect(e.problems).toHaveLength(5);
  });

  it('refuses a Key Vault reference App Service could not resolve, naming the setting and not the reference, as its one problem', () => {
    const reference = '@Microsoft.KeyVault(SecretUri=https://relay-kv.vault.azure.net/secrets/client-state/)';
    const e = configError({
      AZURE_FUNCTIONS_ENVIRONMENT: 'Development',
      GRAPH_CLIENT_STATE: reference,
      GRAPH_NOTIFICATION_URL: ' @microsoft.keyvault(VaultName=relay-kv;SecretName=notification-url)',
    });
    expect(e.problems).toHaveLength(2);
    expect(e.problems[0]).toMatch(/^GRAPH_CLIENT_STATE is a Key Vault reference that App Service could not resolve/);
    expect(e.problems[1]).toMatch(/^GRAPH_NOTIFICATION_URL is a Key Vault reference/);
    expect(e.message).not.toContain('relay-kv');
    // Resolved, the same settings are accepted: only the reference's text is refused.
    expect(readSettings({ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', GRAPH_CLIENT_STATE: 'a-resolved-client-state-secret' }).clientStates).toHaveLength(1);
  });

  it('names each wrong setting', () => {
    const e = configError({
      AzureWebJobsStorage: 'not a connection string',
      GRAPH_CLIENT_STATE: 'x'.repeat(129),
      GRAPH_APP_ID: 'my-app',
      GRAPH_TENANT_IDS: 'contoso',
      GRAPH_JWKS_URL: 'http://keys.example.com/keys',
      NOTIFICATIONS_QUEUE: 'Bad_Queue',
      RECEIVE_STORAGE_TIMEOUT_MS: 'soon',
    });
    for (const name of ['AzureWebJobsStorage', 'GRAPH_CLIENT_STATE', 'GRAPH_APP_ID', 'GRAPH_TENANT_IDS', 'GRAPH_JWKS_URL', 'NOTIFICATIONS_QUEUE', 'RECEIVE_STORAGE_TIMEOUT_MS']) {
      expect(e.problems.some((p) => p.includes(name))).toBe(true);
    }
  });

  it("caps a RECEIVE_STORAGE_TIMEOUT_MS that cannot answer before Graph's 2,900 ms mark, and says why, instead of stopping an app an earlier version configured", () => {
    const dev = { AZURE_FUNCTIONS_ENVIRONMENT: 'Development' };
    expect(readSettings(dev).storageTimeoutMs).toBe(MAX_STORAGE_TIMEOUT_MS);
    expect(readSettings({ ...dev, RECEIVE_STORAGE_TIMEOUT_MS: String(MAX_STORAGE_TIMEOUT_MS) })).toMatchObject({ storageTimeoutMs: MAX_STORAGE_TIMEOUT_MS });
    expect(readSettings({ ...dev, RECEIVE_STORAGE_TIMEOUT_MS: String(MAX_STORAGE_TIMEOUT_MS) }).storageTimeoutConfiguredMs).toBeUndefined();
    // The budget: a key set fetch, the checks and the longest store still end inside the receiver's deadline,
    // and that with the host's part under 2,500 ms, 400 ms under Graph's mark.
    expect(JWKS_FETCH_TIMEOUT_MS + VERIFY_ALLOWANCE_MS + MAX_STORAGE_TIMEOUT_MS).toBeLessThanOrEqual(RECEIVER_DEADLINE_MS);
    expect(RECEIVER_DEADLINE_MS + HOST_ALLOWANCE_MS).toBeLessThanOrEqual(2500);
    // 5,000 is what the previous infra/main.bicep deployed: a code-only deploy must still start.
    for (const late of [MAX_STORAGE_TIMEOUT_MS + 1, 5000, 9000]) {
      expect(readSettings({ ...dev, RECEIVE_STORAGE_TIMEOUT_MS: String(late) })).toMatchObject({ storageTimeoutMs: MAX_STORAGE_TIMEOUT_MS, storageTimeoutConfiguredMs: late });
      expect(storageTimeoutCapReason(late)).toContain('2900 ms');
    }
    expect(configError({ ...dev, RECEIVE_STORAGE_TIMEOUT_MS: '99' }).problems[0]).toContain('RECEIVE_STORAGE_TIMEOUT_MS');
  });

  it('refuses two blob containers of one name, naming both: each has its own retention', () => {
    const dev = { AZURE_FUNCTIONS_ENVIRONMENT: 'Development' };
    const e = configError({ ...dev, DEAD_LETTER_CONTAINER: 'shared-blobs', NOTIFICATIONS_CONTAINER: 'shared-blobs' });
    expect(e.problems).toEqual([expect.stringMatching(/NOTIFICATIONS_CONTAINER and DEAD_LETTER_CONTAINER must name different blob containers/)]);
    expect(configError({ ...dev, EVENTS_CONTAINER: 'payloads', NOTIFICATIONS_CONTAINER: 'payloads' }).problems[0]).toContain('NOTIFICATIONS_CONTAINER and EVENTS_CONTAINER');
    expect(() => readSettings(dev)).not.toThrow();
  });

  it('reads several clientState secrets and tenants, and identity-based storage', () => {
    const s = readSettings({
      KEY_VAULT_URL: 'https://relay-kv.vault.azure.net/',
      AZURE_CLIENT_ID: 'uami-client-id',
      AzureWebJobsStorage__accountName: 'relaystore',
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__clientId: 'abc',
      GRAPH_CLIENT_STATE: 'new-secret, old-secret',
      GRAPH_APP_ID: '22222222-2222-4222-8222-222222222222',
      GRAPH_TENANT_IDS: '11111111-1111-4111-8111-111111111111,33333333-3333-4333-8333-333333333333',
    });
    expect(s.clientStates).toEqual(['new-secret', 'old-secret']);
    expect(s.certificates).toEqual({ kind: 'keyvault', vaultUrl: 'https://relay-kv.vault.azure.net', certificateName: 'graph-notifications', clientId: 'uami-client-id' });
    expect(s.tenantIds).toHaveLength(2);
    expect(s.storage).toEqual({
      kind: 'identity',
      queueServiceUri: 'https://relaystore.queue.core.windows.net',
      blobServiceUri: 'https://relaystore.blob.core.windows.net',
      tableServiceUri: 'https://relaystore.table.core.windows.net',
      credential: 'managedidentity',
      clientId: 'abc',
    });
  });

  it('spreads notifications over NOTIFICATIONS_QUEUE_PARTITIONS queues, the first keeping the plain name', () => {
    expect(notificationQueueNames(readSettings({ AZURE_FUNCTIONS_ENVIRONMENT: 'Development' }))).toEqual(['graph-notifications']);
    expect(notificationQueueNames(readSettings({ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', NOTIFICATIONS_QUEUE_PARTITIONS: '3' }))).toEqual([
      'graph-notifications',
      'graph-notifications-1',
      'graph-notifications-2',
    ]);
    for (const bad of ['0', '33', 'two']) {
      expect(configError({ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', NOTIFICATIONS_QUEUE_PARTITIONS: bad }).problems).toEqual([expect.stringContaining('NOTIFICATIONS_QUEUE_PARTITIONS')]);
    }
    // The last partition's poison queue must still be a valid queue name.
    const long = configError({ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', NOTIFICATIONS_QUEUE: `q${'x'.repeat(54)}`, NOTIFICATIONS_QUEUE_PARTITIONS: '12' });
    expect(long.problems).toEqual([expect.stringContaining('too long for 12 partitions')]);
  });

  it('keeps claim-check blobs 30 days unless told, never less than the poison copy’s 7 days and a week of routing', () => {
    expect(readSettings({ AZURE_FUNCTIONS_ENVIRONMENT: 'Development' }).claimCheckRetentionDays).toBe(30);
    expect(readSettings({ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', CLAIM_CHECK_RETENTION_DAYS: '14' }).claimCheckRetentionDays).toBe(14);
    expect(configError({ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', CLAIM_CHECK_RETENTION_DAYS: '13' }).problems).toEqual([
      'CLAIM_CHECK_RETENTION_DAYS must be a whole number from 14 to 36500, not "13".',
    ]);
  });

  it("checks our endpoints before creating a subscription unless SUBSCRIPTIONS_CHECK_ENDPOINTS is false (the Bicep's restrictToGraph sets it)", () => {
    const dev = { AZURE_FUNCTIONS_ENVIRONMENT: 'Development' };
    expect(readSettings(dev).checkEndpointsBeforeCreate).toBe(true);
    expect(readSettings({ ...dev, SUBSCRIPTIONS_CHECK_ENDPOINTS: 'False' }).checkEndpointsBeforeCreate).toBe(false);
    expect(readSettings({ ...dev, SUBSCRIPTIONS_CHECK_ENDPOINTS: 'true' }).checkEndpointsBeforeCreate).toBe(true);
    expect(configError({ ...dev, SUBSCRIPTIONS_CHECK_ENDPOINTS: 'no' }).problems).toEqual(['SUBSCRIPTIONS_CHECK_ENDPOINTS must be true or false.']);
  });

  it('refuses the same queue for notifications and lifecycle', () => {
    const e = configError({ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', LIFECYCLE_QUEUE: 'graph-notifications' });
    expect(e.problems).toEqual([expect.stringContaining('LIFECYCLE_QUEUE')]);
  });
});

describe('settings by area', () => {
  const DEV = { AZURE_FUNCTIONS_ENVIRONMENT: 'Development' };

  it('each area reads only its own settings into its slice', () => {
    expect(readArea(routeSettings, { ...DEV, ROUTES_FILE: 'routes.json', EVENT_TTL_SECONDS: '60' })).toEqual({
      ok: true,
      slice: {
        routesFile: 'routes.json',
        deadLetterQueue: 'graph-notifications-deadletter',
        deadLetterContainer: 'graph-notifications-deadletter',
        eventsContainer: 'teams-event-payloads',
        eventTtlSeconds: 60,
        eventPayloadRetentionDays: 30,
        dedupTable: 'routedevents',
        dedupWindowMinutes: 1440,
      },
    });
    expect(readArea(certificateSettings, { CERTIFICATE_STORE: 'local', LOCAL_CERTIFICATE_DIR: 'certs' })).toEqual({ ok: true, slice: { certificates: { kind: 'local', folder: 'certs' } } });
  });

  it('names each bad setting of an area in one line, rules across settings included', () => {
    const read = readArea(backfillSettings, { BACKFILL_QUEUE: 'Backfill', BACKFILL_SAFETY_NET_HOURS: '12', BACKFILL_MARGIN_MINUTES: '-1' });
    expect(read).toEqual({
      ok: false,
      problems: [
        'BACKFILL_QUEUE "Backfill" is not a valid queue name (3-63 lowercase letters, digits and single hyphens).',
        'BACKFILL_MARGIN_MINUTES must be a whole number from 0 to 1440, not "-1".',
        'BACKFILL_SAFETY_NET_HOURS must be 0 (off) or from 24 to 48, not 12.',
      ],
    });
    expect(readArea(certificateSettings, {})).toEqual({
      ok: false,
      problems: ['KEY_VAULT_URL is missing: CERTIFICATE_STORE is keyvault, so name the vault (https://<vault>.vault.azure.net).'],
    });
  });

  it('every queue, container and table name is checked by the same validators', () => {
    const problem = (schema: ReturnType<typeof queueName>, value: string) => schema.safeParse(value).error?.issues.map((i) => i.message);
    expect(problem(queueName('Q'), 'ok-queue')).toBeUndefined();
    expect(problem(queueName('Q'), 'two--hyphens')).toEqual(['Q "two--hyphens" is not a valid queue name (3-63 lowercase letters, digits and single hyphens).']);
    expect(problem(containerName('C'), 'ab')).toEqual(['C "ab" is not a valid container name (3-63 lowercase letters, digits and single hyphens).']);
    expect(problem(tableName('T'), 'routedevents')).toBeUndefined();
    expect(problem(tableName('T'), 'routed-events')).toEqual(['T "routed-events" is not a valid table name (3-63 letters and digits, starting with a letter).']);
    const e = configError({ ...DEV, DEAD_LETTER_QUEUE: 'DL', SUBSCRIPTION_EVENTS_QUEUE: 'x', EVENTS_CONTAINER: 'E', SUBSCRIPTIONS_TABLE: '1', BACKFILL_TABLE: 'b-f', DEDUP_TABLE: '_' });
    for (const name of ['DEAD_LETTER_QUEUE', 'SUBSCRIPTION_EVENTS_QUEUE', 'EVENTS_CONTAINER', 'SUBSCRIPTIONS_TABLE', 'BACKFILL_TABLE', 'DEDUP_TABLE']) {
      expect(e.problems.filter((p) => p.startsWith(`${name} `))).toHaveLength(1);
    }
    expect(e.problems).toHaveLength(6);
  });

  it('defines each setting once', () => {
    const names = SETTING_DEFINITIONS.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('metrics and Application Insights settings', () => {
  const dev = { AZURE_FUNCTIONS_ENVIRONMENT: 'Development' };
  it('keeps counters in the metrics table, written every 10 s locally and every minute in Azure; no Application Insights unless set', () => {
    expect(readSettings(dev).metrics).toEqual({ table: 'metrics', flushSeconds: 10, retentionDays: 30 });
    expect(settingValue({}, 'METRICS_FLUSH_SECONDS')).toBe('60');
  });

  it('keeps the counters 30 days unless told, and never less than the hours the status reads', () => {
    expect(readSettings({ ...dev, METRICS_RETENTION_DAYS: '7' }).metrics.retentionDays).toBe(7);
    expect(configError({ ...dev, METRICS_RETENTION_DAYS: '0' }).problems).toEqual(['METRICS_RETENTION_DAYS must be a whole number from 1 to 36500, not "0".']);
    const accepted = (days: number) => {
      try {
        return readSettings({ ...dev, METRICS_RETENTION_DAYS: String(days) }).metrics.retentionDays === days;
      } catch (e) {
        if (e instanceof ConfigError) return false;
        throw e;
      }
    };
    const shortest = [0, 1, 2, 3, 4, 5, 6, 7].find(accepted);
    expect(shortest).toBeDefined();
    expect((shortest ?? 0) * 24).toBeGreaterThanOrEqual(METRICS_WINDOW_HOURS);
  });

  it('reads the connection string and the managed identity of the Entra authentication string', () => {
    const s = readSettings({
      ...dev,
      APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://example.invalid/',
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=abc;Authorization=AAD',
    });
    expect(s.metrics.appInsights).toEqual({ connectionString: expect.stringContaining('InstrumentationKey='), entraAuthentication: true, managedIdentityClientId: 'abc' });
  });

  it('reads Authorization=AAD without a ClientId as Entra authentication with the system-assigned identity, and no authentication string as the key', () => {
    const connection = { ...dev, APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://example.invalid/' };
    expect(readSettings({ ...connection, APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD' }).metrics.appInsights).toEqual({
      connectionString: connection.APPLICATIONINSIGHTS_CONNECTION_STRING,
      entraAuthentication: true,
    });
    expect(readSettings(connection).metrics.appInsights).toEqual({ connectionString: connection.APPLICATIONINSIGHTS_CONNECTION_STRING, entraAuthentication: false });
  });

  it('names each bad one', () => {
    const e = configError({
      ...dev,
      METRICS_TABLE: 'no-dashes',
      METRICS_FLUSH_SECONDS: '0',
      METRICS_RETENTION_DAYS: 'a month',
      APPLICATIONINSIGHTS_CONNECTION_STRING: 'hello',
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=abc',
    });
    expect(e.problems).toHaveLength(5);
    for (const [i, name] of ['METRICS_TABLE', 'METRICS_FLUSH_SECONDS', 'METRICS_RETENTION_DAYS', 'APPLICATIONINSIGHTS_CONNECTION_STRING', 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'].entries())
      expect(e.problems[i]).toContain(name);
  });
});

describe('documentation of settings', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const example = JSON.parse(readFileSync(new URL('../../local.settings.json.example', import.meta.url), 'utf8')) as {
    Values: Record<string, string>;
  };

  it('README lists every setting in its configuration table, and no other', () => {
    const table = readme.slice(readme.indexOf('## Configuration'));
    const rows = [...table.matchAll(/^\| `([A-Za-z_][\w]*)` \|/gm)].map((m) => m[1]);
    expect(new Set(rows)).toEqual(new Set(SETTING_DEFINITIONS.map((d) => d.name)));
  });

  it('local.settings.json.example lists every setting the app reads', () => {
    const documented = SETTING_DEFINITIONS.map((d) => d.name);
    for (const name of documented) expect(Object.keys(example.Values)).toContain(name);
  });

  it('local.settings.json.example sets each setting the host resolves for a trigger, to the app default (Core Tools has no other)', () => {
    expect(nonEmpty(Object.entries(triggerSettingDefaults())).every(([name, value]) => value !== '' && example.Values[name] === value)).toBe(true);
  });
});

describe('settings read when the host loads the function files', () => {
  it('are the trigger settings as %SETTING% binding expressions, with their defaults for a local run', () => {
    expect(TRIGGER_SETTINGS.map(bindingExpression)).toEqual(['%NOTIFICATIONS_QUEUE%', '%LIFECYCLE_QUEUE%', '%BACKFILL_QUEUE%', '%RECONCILE_SCHEDULE%']);
    expect(triggerSettingDefaults()).toEqual({
      NOTIFICATIONS_QUEUE: 'graph-notifications',
      LIFECYCLE_QUEUE: 'graph-lifecycle',
      BACKFILL_QUEUE: 'graph-backfill',
      RECONCILE_SCHEDULE: '0 */15 * * * *',
    });
  });

  it('and the partition count alone, checked as readSettings checks it', () => {
    expect(readNotificationPartitions({})).toBe(1);
    expect(readNotificationPartitions({ NOTIFICATIONS_QUEUE_PARTITIONS: ' 4 ' })).toBe(4);
    expect(() => readNotificationPartitions({ NOTIFICATIONS_QUEUE_PARTITIONS: '33' })).toThrow(ConfigError);
    expect(() => readNotificationPartitions({ NOTIFICATIONS_QUEUE_PARTITIONS: 'two' })).toThrow(/NOTIFICATIONS_QUEUE_PARTITIONS/);
  });
});
