import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isFunctionDisabled, loadAppSettings } from '../../dev/local-host/app-settings.js';
import { DEFAULT_FUNCTION_TIMEOUT_MS, parseTimeSpanMs, readHostOptions } from '../../dev/local-host/host-options.js';
import { LogLevels } from '../../dev/local-host/log-levels.js';

let dir: string | undefined;
const appWith = (files: Record<string, unknown>) => {
  dir = mkdtempSync(join(tmpdir(), 'tcr-host-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
};
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('readHostOptions', () => {
  it("reads the app's own host.json with newBatchThreshold set, so that neither this machine's cores nor a Flex instance's processor count decide how many messages are in flight", () => {
    const app = readHostOptions(fileURLToPath(new URL('../../', import.meta.url)), { settings: { AZURE_FUNCTIONS_ENVIRONMENT: 'Production' } });
    expect(app.queues).toMatchObject({ batchSize: 16, newBatchThreshold: 8 });
  });

  it('applies the Storage extension defaults, 2 s polling in Development', () => {
    const o = readHostOptions(appWith({ 'host.json': { version: '2.0' } }), { settings: { AZURE_FUNCTIONS_ENVIRONMENT: 'Development' } });
    expect(o.routePrefix).toBe('api');
    expect(o.queues).toEqual({
      batchSize: 16,
      newBatchThreshold: 8 * cpus().length,
      maxPollingIntervalMs: 2000,
      visibilityTimeoutMs: 0,
      maxDequeueCount: 5,
      messageEncoding: 'base64',
    });
    expect(readHostOptions(dir as string).queues.maxPollingIntervalMs).toBe(60_000);
    expect(readHostOptions(dir as string, { settings: { AZURE_FUNCTIONS_ENVIRONMENT: 'Production' } }).queues.maxPollingIntervalMs).toBe(60_000);
    expect(readHostOptions(dir as string, { settings: { AZURE_FUNCTIONS_ENVIRONMENT: 'development' } }).queues.maxPollingIntervalMs).toBe(2000);
  });

  it('in Development, turns a maxPollingInterval equal to the one-minute default into 2 s, and keeps any other', () => {
    const dev: { settings: Record<string, string> } = { settings: { AZURE_FUNCTIONS_ENVIRONMENT: 'Development' } };
    const polling = (value: unknown, options = dev) =>
      readHostOptions(appWith({ 'host.json': { version: '2.0', extensions: { queues: { maxPollingInterval: value } } } }), options).queues.maxPollingIntervalMs;
    expect(polling('00:01:00')).toBe(2000);
    expect(polling('00:00:30')).toBe(30_000);
    expect(polling('00:05:00')).toBe(300_000);
    expect(polling('00:01:00', { settings: {} })).toBe(60_000);
  });

  it('refuses a maxPollingInterval under 100 ms, as the Storage extension does', () => {
    appWith({ 'host.json': { version: '2.0', extensions: { queues: { maxPollingInterval: '00:00:00.050' } } } });
    expect(() => readHostOptions(dir as string)).toThrow(/maxPollingInterval must not be less than 00:00:00.100/);
  });

  it("sets the app's own maxPollingInterval explicitly, so Azure polls an idle queue every 2 s as in Development", () => {
    const app = readHostOptions(new URL('../../', import.meta.url).pathname);
    expect(app.queues.maxPollingIntervalMs).toBe(2000);
    expect(readHostOptions(new URL('../../', import.meta.url).pathname, { settings: { AZURE_FUNCTIONS_ENVIRONMENT: 'Development' } }).queues.maxPollingIntervalMs).toBe(2000);
  });

  it('reads what host.json sets', () => {
    const o = readHostOptions(
      appWith({
        'host.json': {
          version: '2.0',
          extensions: {
            http: { routePrefix: '/hooks/' },
            queues: { batchSize: 4, newBatchThreshold: 2, maxDequeueCount: 2, visibilityTimeout: '00:00:30', maxPollingInterval: '00:00:05', messageEncoding: 'none' },
          },
        },
      }),
    );
    expect(o).toMatchObject({
      routePrefix: 'hooks',
      queues: { batchSize: 4, newBatchThreshold: 2, maxPollingIntervalMs: 5000, visibilityTimeoutMs: 30_000, maxDequeueCount: 2, messageEncoding: 'none' },
    });
  });

  it('lets AzureFunctionsJobHost__… app settings override host.json, as in Azure', () => {
    const app = appWith({ 'host.json': { version: '2.0', extensions: { queues: { maxDequeueCount: 5 } } } });
    const o = readHostOptions(app, {
      settings: {
        AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '2',
        AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:01',
        AzureFunctionsJobHost__extensions__http__routePrefix: 'x',
      },
    });
    expect(o.queues.maxDequeueCount).toBe(2);
    expect(o.queues.visibilityTimeoutMs).toBe(1000);
    expect(o.routePrefix).toBe('x');
  });

  it('refuses out-of-range values, naming them', () => {
    appWith({ 'host.json': { version: '2.0', extensions: { queues: { batchSize: 64, messageEncoding: 'utf8', visibilityTimeout: 'soon' } } } });
    expect(() => readHostOptions(dir as string)).toThrow(/batchSize[\s\S]*messageEncoding[\s\S]*visibilityTimeout/);
  });

  it('parses .NET time spans as the configuration binder does', () => {
    expect(parseTimeSpanMs('00:00:00.500', 'x')).toBe(500);
    expect(parseTimeSpanMs('1.02:03:04', 'x')).toBe(((24 + 2) * 3600 + 3 * 60 + 4) * 1000);
    expect(parseTimeSpanMs('00:05', 'x')).toBe(5 * 60_000);
    expect(parseTimeSpanMs('2', 'x')).toBe(2 * 86_400_000);
    expect(parseTimeSpanMs(2, 'x')).toBe(2 * 86_400_000);
    expect(parseTimeSpanMs('-1', 'x')).toBe(-86_400_000);
    expect(() => parseTimeSpanMs('00:61:00', 'x')).toThrow(/time span/);
    expect(() => parseTimeSpanMs('soon', 'x')).toThrow(/time span/);
  });
});

describe('host.json settings beyond the queues', () => {
  const read = (hostJson: Record<string, unknown>, settings: Record<string, string> = {}) => readHostOptions(appWith({ 'host.json': { version: '2.0', ...hostJson } }), { settings });

  it('reads functionTimeout: 30 minutes unless set, -1 for no limit, at least one second', () => {
    expect(read({}).functionTimeoutMs).toBe(DEFAULT_FUNCTION_TIMEOUT_MS);
    expect(DEFAULT_FUNCTION_TIMEOUT_MS).toBe(30 * 60_000);
    expect(read({ functionTimeout: '00:10:00' }).functionTimeoutMs).toBe(600_000);
    expect(read({ functionTimeout: '-1' }).functionTimeoutMs).toBeUndefined();
    expect(read({}, { AzureFunctionsJobHost__functionTimeout: '-1' }).functionTimeoutMs).toBeUndefined();
    expect(() => read({ functionTimeout: '00:00:00.500' })).toThrow(/functionTimeout must be at least 00:00:01/);
  });

  it('reads keys without regard to case, as the host does', () => {
    expect(read({ FunctionTimeout: '00:02:00', Extensions: { Queues: { BatchSize: 8 } } })).toMatchObject({ functionTimeoutMs: 120_000, queues: { batchSize: 8 } });
  });

  it('reads the functions allow-list, from host.json or from app settings numbered as the configuration binder reads lists', () => {
    expect(read({}).functions).toBeUndefined();
    expect(read({ functions: ['a', 'B'] }).functions).toEqual(['a', 'B']);
    expect(read({}, { AzureFunctionsJobHost__functions__1: 'second', AzureFunctionsJobHost__functions__0: 'first' }).functions).toEqual(['first', 'second']);
    expect(() => read({ functions: 'a' })).toThrow(/functions must be a list/);
  });

  it('refuses, naming it, what the Azure host honours and the local host does not', () => {
    expect(() => read({ retry: { strategy: 'fixedDelay' } })).toThrow(/host\.json sets retry, which the Azure host honours and the local host does not/);
    expect(() => read({ concurrency: { dynamicConcurrencyEnabled: true } })).toThrow(/concurrency/);
    expect(() => read({ extensions: { http: { routePrefix: 'x', maxConcurrentRequests: 10 } } })).toThrow(/extensions\.http\.maxConcurrentRequests/);
    expect(() => read({ extensions: { serviceBus: {} } })).toThrow(/extensions\.serviceBus.*HTTP, storage queue and timer triggers only/);
    expect(() => read({ extensions: { queues: { maxPollingIntervall: '00:00:02' } } })).toThrow(/extensions\.queues\.maxPollingIntervall/);
    expect(() => read({ queues: { batchSize: 1 } })).toThrow(/version 1 section/);
    expect(() => read({ functionTimout: '00:01:00' })).toThrow(/functionTimout.*a typo/);
    expect(() => read({ logging: { logLevel: { default: 'Loud' } } })).toThrow(/logging\.logLevel\.default is "Loud"/);
  });

  it('notes, without refusing, what applies only to Azure: Application Insights (sampling), bundles, file logging, health monitor', () => {
    const o = read({
      extensionBundle: { id: 'x', version: '[4.*, 5.0.0)' },
      logging: { fileLoggingMode: 'always', applicationInsights: { samplingSettings: { isEnabled: true, excludedTypes: 'Request' } } },
      healthMonitor: { enabled: true },
    });
    expect(o.notes.map((n) => n.setting).sort()).toEqual(['extensionBundle', 'healthMonitor', 'logging.applicationInsights', 'logging.fileLoggingMode']);
    expect(o.notes.find((n) => n.setting === 'logging.applicationInsights')?.why).toMatch(/sampling.*none sampled/);
    // Unset, Azure samples by default: said as well.
    expect(read({}).notes).toEqual([{ setting: 'logging.applicationInsights (not set)', why: expect.stringMatching(/sampling/) }]);
  });

  it("accepts the app's own host.json, noting only what applies to Azure alone", () => {
    const o = readHostOptions(new URL('../../', import.meta.url).pathname);
    // OpenTelemetry mode: the host's Application Insights sampling note does not apply.
    expect(o.notes.map((n) => n.setting).sort()).toEqual(['extensionBundle', 'telemetryMode']);
  });
});

describe('LogLevels (host.json logging.logLevel)', () => {
  it('takes the longest matching category prefix, without regard to case, then default (Information unless set)', () => {
    const levels = new LogLevels({ default: 'Warning', Function: 'Information', 'function.routeNotifications.User': 'Error', 'Function.quiet': 'None' });
    expect(levels.allows('Function.routeNotifications.User', 'warning')).toBe(false);
    expect(levels.allows('Function.routeNotifications.User', 'error')).toBe(true);
    expect(levels.allows('Function.routeNotifications', 'information')).toBe(true);
    expect(levels.allows('Function.quiet.User', 'critical')).toBe(false);
    expect(levels.allows('Host.Results', 'information')).toBe(false);
    expect(new LogLevels().allows('Function.x.User', 'information')).toBe(true);
    expect(new LogLevels().allows('Function.x.User', 'debug')).toBe(false);
  });
});

describe('isFunctionDisabled', () => {
  it('accepts AzureWebJobs.<name>.Disabled and AzureWebJobs_<name>_Disabled, names in any case, "true" or "1"', () => {
    expect(isFunctionDisabled({ 'AzureWebJobs.route.Disabled': 'true' }, 'route')).toBe(true);
    expect(isFunctionDisabled({ AzureWebJobs_route_Disabled: '1' }, 'route')).toBe(true);
    expect(isFunctionDisabled({ AZUREWEBJOBS_ROUTE_DISABLED: 'TRUE' }, 'route')).toBe(true);
    expect(isFunctionDisabled({ AzureWebJobs_route_Disabled: 'false' }, 'route')).toBe(false);
    expect(isFunctionDisabled({ AzureWebJobs_route_Disabled: 'yes' }, 'route')).toBe(false);
    expect(isFunctionDisabled({ AzureWebJobs_router_Disabled: 'true' }, 'route')).toBe(false);
  });
});

describe('loadAppSettings', () => {
  it('takes local.settings.json Values, lets the environment override, and defaults storage to Azurite', () => {
    const app = appWith({ 'local.settings.json': { IsEncrypted: false, Values: { A: 'from-file', B: 'from-file' } } });
    const s = loadAppSettings(app, { B: 'from-env' });
    expect(s).toMatchObject({ A: 'from-file', B: 'from-env', AzureWebJobsStorage: 'UseDevelopmentStorage=true', AZURE_FUNCTIONS_ENVIRONMENT: 'Development' });
  });

  it('does not default storage when identity-based settings are given', () => {
    const s = loadAppSettings(appWith({}), { AzureWebJobsStorage__accountName: 'acct' });
    expect(s.AzureWebJobsStorage).toBeUndefined();
  });

  it('refuses Values that are not strings', () => {
    const app = appWith({ 'local.settings.json': { Values: { PORT: 7071 } } });
    expect(() => loadAppSettings(app, {})).toThrow(/PORT/);
  });
});

describe('loadAppSettings defaults from the starting tool', () => {
  it('yield to local.settings.json and the environment, but not to empty values', () => {
    const app = appWith({ 'local.settings.json': { Values: { GRAPH_JWKS_URL: '', GRAPH_BASE_URL: 'http://127.0.0.1:9999' } } });
    const s = loadAppSettings(app, { OTHER: 'x' }, { GRAPH_JWKS_URL: 'http://sim/keys', GRAPH_BASE_URL: 'http://sim', NOTIFICATIONS_QUEUE: 'from-default' });
    expect(s).toMatchObject({ GRAPH_JWKS_URL: 'http://sim/keys', GRAPH_BASE_URL: 'http://127.0.0.1:9999', NOTIFICATIONS_QUEUE: 'from-default', OTHER: 'x' });
    expect(loadAppSettings(app, { NOTIFICATIONS_QUEUE: 'from-env' }, { NOTIFICATIONS_QUEUE: 'from-default' }).NOTIFICATIONS_QUEUE).toBe('from-env');
  });
});
