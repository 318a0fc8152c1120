import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_POLLING_INTERVAL_MS, DEVELOPMENT_MAX_POLLING_INTERVAL_MS, MIN_POLLING_INTERVAL_MS } from './polling-backoff.js';

/** The host.json options the local host honours, with the real host's defaults. */
export interface HostOptions {
  readonly routePrefix: string;
  readonly queues: QueueOptions;
}

export interface QueueOptions {
  readonly batchSize: number;
  readonly newBatchThreshold: number;
  readonly maxPollingIntervalMs: number;
  readonly visibilityTimeoutMs: number;
  readonly maxDequeueCount: number;
  readonly messageEncoding: 'base64' | 'none';
}

/**
 * Parses a .NET TimeSpan as the host's configuration binder does: "hh:mm", "hh:mm:ss[.fffffff]",
 * "d.hh:mm:ss[.fffffff]", or a whole number of days ("1", or the JSON number 1, is one day, not one
 * millisecond); a leading "-" makes it negative.
 */
export function parseTimeSpanMs(value: unknown, setting: string): number {
  const text = typeof value === 'number' && Number.isInteger(value) ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text !== undefined) {
    const days = /^(-)?(\d+)$/.exec(text);
    if (days) return (days[1] ? -1 : 1) * Number(days[2]) * 86_400_000;
    const m = /^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/.exec(text);
    if (m && Number(m[3]) < 24 && Number(m[4]) < 60 && Number(m[5] ?? 0) < 60) {
      const [, sign, d = '0', h = '0', min = '0', s = '0', frac = ''] = m;
      const ms = frac ? Number(`0.${frac}`) * 1000 : 0;
      return (sign ? -1 : 1) * (((Number(d) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + Number(s) * 1000 + ms);
    }
  }
  throw new Error(`host.json ${setting}: "${String(value)}" is not a time span such as "00:00:10".`);
}

/** The host's IHostEnvironment.IsDevelopment(): AZURE_FUNCTIONS_ENVIRONMENT is "Development" (any case). */
export function isDevelopment(settings: Record<string, string | undefined>): boolean {
  return (settings.AZURE_FUNCTIONS_ENVIRONMENT ?? '').toLowerCase() === 'development';
}

/**
 * App settings named `AzureFunctionsJobHost__a__b__c` override host.json's `a.b.c`, as in Azure. Values that
 * look like numbers or booleans are read as such.
 */
function applySettingOverrides(json: Record<string, any>, settings: Record<string, string>): void {
  const prefix = 'AzureFunctionsJobHost__';
  for (const [key, raw] of Object.entries(settings)) {
    if (!key.startsWith(prefix)) continue;
    const path = key.slice(prefix.length).split('__').filter(Boolean);
    const last = path.pop();
    if (!last) continue;
    let node = json;
    for (const part of path) node = node[part] = typeof node[part] === 'object' && node[part] !== null ? node[part] : {};
    node[last] = /^-?\d+$/.test(raw) ? Number(raw) : raw === 'true' ? true : raw === 'false' ? false : raw;
  }
}

/**
 * Reads host.json as the real host does: `extensions.http.routePrefix` (default "api"), and
 * `extensions.queues` with the Storage extension's defaults and ranges. maxPollingInterval is 1 minute
 * unless set; in Development (AZURE_FUNCTIONS_ENVIRONMENT=Development, which Core Tools and the local host
 * always set) a value equal to that default, whether set or not, becomes 2 s, as the Storage extension does;
 * any other value stays as set. Less than 100 ms is refused, as the extension refuses it.
 */
export function readHostOptions(appDir: string, { settings = {} as Record<string, string>, development = isDevelopment(settings) } = {}): HostOptions {
  const path = join(appDir, 'host.json');
  const json = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>) : {};
  applySettingOverrides(json, settings);
  if (json.version !== undefined && json.version !== '2.0') {
    throw new Error(`host.json version must be "2.0", not "${String(json.version)}".`);
  }
  const http = json.extensions?.http ?? {};
  const q = json.extensions?.queues ?? {};
  const problems: string[] = [];
  const int = (name: string, def: number, min: number, max: number) => {
    const v = q[name] ?? def;
    if (!Number.isInteger(v) || v < min || v > max) {
      problems.push(`extensions.queues.${name} must be a whole number from ${min} to ${max}.`);
      return def;
    }
    return v as number;
  };
  const batchSize = int('batchSize', 16, 1, 32);
  const processorCount = process.env.WEBSITE_SKU === 'Dynamic' ? 1 : cpus().length;
  const newBatchThreshold = int('newBatchThreshold', Math.floor(batchSize / 2) * processorCount, 0, 100_000);
  const maxDequeueCount = int('maxDequeueCount', 5, 1, 100_000);
  const encoding = q.messageEncoding ?? 'base64';
  if (encoding !== 'base64' && encoding !== 'none') problems.push('extensions.queues.messageEncoding must be "base64" or "none".');
  let maxPollingIntervalMs = DEFAULT_MAX_POLLING_INTERVAL_MS;
  let visibilityTimeoutMs = 0;
  try {
    if (q.maxPollingInterval !== undefined) maxPollingIntervalMs = parseTimeSpanMs(q.maxPollingInterval, 'extensions.queues.maxPollingInterval');
    if (q.visibilityTimeout !== undefined) visibilityTimeoutMs = parseTimeSpanMs(q.visibilityTimeout, 'extensions.queues.visibilityTimeout');
  } catch (e) {
    problems.push((e as Error).message);
  }
  if (maxPollingIntervalMs < MIN_POLLING_INTERVAL_MS) problems.push(`extensions.queues.maxPollingInterval must not be less than 00:00:00.100 (the Storage extension refuses it).`);
  if (development && maxPollingIntervalMs === DEFAULT_MAX_POLLING_INTERVAL_MS) maxPollingIntervalMs = DEVELOPMENT_MAX_POLLING_INTERVAL_MS;
  if (visibilityTimeoutMs < 0) problems.push('extensions.queues.visibilityTimeout must not be negative.');
  const routePrefix = typeof http.routePrefix === 'string' ? http.routePrefix.replace(/^\/+|\/+$/g, '') : 'api';
  if (problems.length > 0) throw new Error(`host.json is invalid:\n  - ${problems.join('\n  - ')}`);
  return {
    routePrefix,
    queues: { batchSize, newBatchThreshold, maxPollingIntervalMs, visibilityTimeoutMs, maxDequeueCount, messageEncoding: encoding },
  };
}
