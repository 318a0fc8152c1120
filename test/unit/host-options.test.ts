import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAppSettings } from '../../tools/local-host/app-settings.js';
import { parseTimeSpanMs, readHostOptions } from '../../tools/local-host/host-options.js';

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
    const polling = (value: unknown, options = dev) => readHostOptions(appWith({ 'host.json': { version: '2.0', extensions: { queues: { maxPollingInterval: value } } } }), options).queues.maxPollingIntervalMs;
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
          extensions: { http: { routePrefix: '/hooks/' }, queues: { batchSize: 4, newBatchThreshold: 2, maxDequeueCount: 2, visibilityTimeout: '00:00:30', maxPollingInterval: '00:00:05', messageEncoding: 'none' } },
        },
      }),
    );
    expect(o).toEqual({
      routePrefix: 'hooks',
      queues: { batchSize: 4, newBatchThreshold: 2, maxPollingIntervalMs: 5000, visibilityTimeoutMs: 30_000, maxDequeueCount: 2, messageEncoding: 'none' },
    });
  });

  it('lets AzureFunctionsJobHost__… app settings override host.json, as in Azure', () => {
    const app = appWith({ 'host.json': { version: '2.0', extensions: { queues: { maxDequeueCount: 5 } } } });
    const o = readHostOptions(app, { settings: { AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '2', AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:01', AzureFunctionsJobHost__extensions__http__routePrefix: 'x' } });
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
