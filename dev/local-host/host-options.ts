import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { APP_INSIGHTS_NOTE, reviewHostJson } from './host-json-policy.js';
import { LogLevels } from './log-levels.js';
import { DEFAULT_MAX_POLLING_INTERVAL_MS, DEVELOPMENT_MAX_POLLING_INTERVAL_MS, MIN_POLLING_INTERVAL_MS } from './polling-backoff.js';
import { HostConfigError } from './host-errors.js';

/** The host.json options the local host honours, with the real host's defaults. */
export interface HostOptions {
  readonly routePrefix: string;
  readonly queues: QueueOptions;
  /** functionTimeout; undefined: no limit ("-1"). */
  readonly functionTimeoutMs: number | undefined;
  /** The `functions` allow-list: only these functions are loaded (case-insensitive); undefined: all. */
  readonly functions: readonly string[] | undefined;
  readonly logLevels: LogLevels;
  /** Settings the Azure host applies that have no local counterpart, to announce at start. */
  readonly notes: readonly { readonly setting: string; readonly why: string }[];
}

/** functionTimeout when host.json leaves it unset, on Flex Consumption, dedicated plans and locally. */
export const DEFAULT_FUNCTION_TIMEOUT_MS = 30 * 60_000;
const MIN_FUNCTION_TIMEOUT_MS = 1000;
const ONE_DAY_MS = 86_400_000;

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
  throw new HostConfigError(`host.json ${setting}: "${String(value)}" is not a time span such as "00:00:10".`);
}

/** The host's IHostEnvironment.IsDevelopment(): AZURE_FUNCTIONS_ENVIRONMENT is "Development" (any case). */
export function isDevelopment(settings: Record<string, string | undefined>): boolean {
  return (settings.AZURE_FUNCTIONS_ENVIRONMENT ?? '').toLowerCase() === 'development';
}

/** A property of a host.json object, found without regard to case as the host's configuration does. */
function pick(obj: unknown, key: string): unknown {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return undefined;
  const k = Object.keys(obj).find((name) => name.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : (obj as Record<string, unknown>)[k];
}

/**
 * App settings named `AzureFunctionsJobHost__a__b__c` override host.json's `a.b.c`, as in Azure (without
 * regard to case). Values that look like numbers or booleans are read as such.
 */
function applySettingOverrides(json: Record<string, unknown>, settings: Record<string, string>): void {
  const prefix = 'azurefunctionsjobhost__';
  for (const [key, raw] of Object.entries(settings)) {
    if (!key.toLowerCase().startsWith(prefix)) continue;
    const path = key.slice(prefix.length).split('__').filter(Boolean);
    const last = path.pop();
    if (!last) continue;
    let node = json;
    for (const part of path) {
      const existing = Object.keys(node).find((k) => k.toLowerCase() === part.toLowerCase()) ?? part;
      const child = node[existing];
      const next = typeof child === 'object' && child !== null ? (child as Record<string, unknown>) : {};
      node = node[existing] = next;
    }
    const target = Object.keys(node).find((k) => k.toLowerCase() === last.toLowerCase()) ?? last;
    node[target] = /^-?\d+$/.test(raw) ? Number(raw) : raw === 'true' ? true : raw === 'false' ? false : raw;
  }
}

/**
 * Reads host.json as the real host does, refusing what the local host cannot honour (see host-json-policy):
 * - `extensions.http.routePrefix` (default "api");
 * - `extensions.queues` with the Storage extension's defaults and ranges. maxPollingInterval is 1 minute
 *   unless set; in Development (AZURE_FUNCTIONS_ENVIRONMENT=Development, which Core Tools and the local host
 *   always set) a value equal to that default, whether set or not, becomes 2 s, as the Storage extension
 *   does; any other value stays as set. Less than 100 ms is refused, as the extension refuses it;
 * - `functionTimeout`: 30 minutes unless set (Flex Consumption's and a local host's default), "-1" for no
 *   limit, at least 1 second;
 * - `functions`: an allow-list of function names;
 * - `logging.logLevel`.
 */
export function readHostOptions(appDir: string, { settings = {}, development = isDevelopment(settings) }: { settings?: Record<string, string>; development?: boolean } = {}): HostOptions {
  const path = join(appDir, 'host.json');
  const json = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {};
  applySettingOverrides(json, settings);
  const version = pick(json, 'version');
  if (version !== undefined && version !== '2.0') {
    throw new HostConfigError(`host.json version must be "2.0", not "${typeof version === 'string' ? version : JSON.stringify(version)}".`);
  }
  const review = reviewHostJson(json);
  const problems: string[] = [...review.refusals];
  const extensions = pick(json, 'extensions');
  const http = pick(extensions, 'http') ?? {};
  const q = pick(extensions, 'queues') ?? {};
  const int = (name: string, def: number, min: number, max: number) => {
    const v = pick(q, name) ?? def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      problems.push(`extensions.queues.${name} must be a whole number from ${min} to ${max}.`);
      return def;
    }
    return v;
  };
  const batchSize = int('batchSize', 16, 1, 32);
  const processorCount = process.env.WEBSITE_SKU === 'Dynamic' ? 1 : cpus().length;
  const newBatchThreshold = int('newBatchThreshold', Math.floor(batchSize / 2) * processorCount, 0, 100_000);
  const maxDequeueCount = int('maxDequeueCount', 5, 1, 100_000);
  const encodingValue = pick(q, 'messageEncoding') ?? 'base64';
  const encoding = encodingValue === 'none' ? 'none' : 'base64';
  if (encodingValue !== 'base64' && encodingValue !== 'none') problems.push('extensions.queues.messageEncoding must be "base64" or "none".');
  let maxPollingIntervalMs = DEFAULT_MAX_POLLING_INTERVAL_MS;
  let visibilityTimeoutMs = 0;
  let functionTimeoutMs: number | undefined = DEFAULT_FUNCTION_TIMEOUT_MS;
  const timeSpan = (value: unknown, setting: string, apply: (ms: number) => void) => {
    if (value === undefined) return;
    try {
      apply(parseTimeSpanMs(value, setting));
    } catch (e) {
      problems.push((e as Error).message);
    }
  };
  timeSpan(pick(q, 'maxPollingInterval'), 'extensions.queues.maxPollingInterval', (ms) => (maxPollingIntervalMs = ms));
  timeSpan(pick(q, 'visibilityTimeout'), 'extensions.queues.visibilityTimeout', (ms) => (visibilityTimeoutMs = ms));
  timeSpan(pick(json, 'functionTimeout'), 'functionTimeout', (ms) => (functionTimeoutMs = ms === -ONE_DAY_MS ? undefined : ms));
  if (maxPollingIntervalMs < MIN_POLLING_INTERVAL_MS) problems.push(`extensions.queues.maxPollingInterval must not be less than 00:00:00.100 (the Storage extension refuses it).`);
  if (development && maxPollingIntervalMs === DEFAULT_MAX_POLLING_INTERVAL_MS) maxPollingIntervalMs = DEVELOPMENT_MAX_POLLING_INTERVAL_MS;
  if (visibilityTimeoutMs < 0) problems.push('extensions.queues.visibilityTimeout must not be negative.');
  if (functionTimeoutMs !== undefined && functionTimeoutMs < MIN_FUNCTION_TIMEOUT_MS) problems.push('functionTimeout must be at least 00:00:01, or -1 for no limit (as the host requires).');

  // App settings (AzureFunctionsJobHost__functions__0=…) give the list as an object keyed 0, 1, …, which the
  // host's configuration binder reads as a list.
  let functionsValue = pick(json, 'functions');
  if (functionsValue && typeof functionsValue === 'object' && !Array.isArray(functionsValue) && Object.keys(functionsValue).every((k) => /^\d+$/.test(k))) {
    functionsValue = Object.entries(functionsValue)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, v]: [string, unknown]) => v);
  }
  let functions: string[] | undefined;
  if (functionsValue !== undefined && functionsValue !== null) {
    if (!Array.isArray(functionsValue) || functionsValue.some((f) => typeof f !== 'string')) problems.push('host.json functions must be a list of function names.');
    else functions = functionsValue as string[];
  }
  const logLevelValue = pick(pick(json, 'logging'), 'logLevel');
  problems.push(...LogLevels.problems(logLevelValue));

  const routePrefixValue = pick(http, 'routePrefix');
  const routePrefix = typeof routePrefixValue === 'string' ? routePrefixValue.replace(/^\/+|\/+$/g, '') : 'api';
  if (problems.length > 0) throw new HostConfigError(`host.json is invalid:\n  - ${problems.join('\n  - ')}`);
  const notes = [...review.notes];
  // In OpenTelemetry mode the host's Application Insights logger, and its sampling, are not used.
  const mode = pick(json, 'telemetryMode');
  const openTelemetry = typeof mode === 'string' && mode.toLowerCase() === 'opentelemetry';
  if (!openTelemetry && pick(pick(json, 'logging'), 'applicationInsights') === undefined) {
    notes.push({ setting: 'logging.applicationInsights (not set)', why: APP_INSIGHTS_NOTE });
  }
  return {
    routePrefix,
    queues: { batchSize, newBatchThreshold, maxPollingIntervalMs, visibilityTimeoutMs, maxDequeueCount, messageEncoding: encoding },
    functionTimeoutMs,
    functions,
    logLevels: new LogLevels(logLevelValue && LogLevels.problems(logLevelValue).length === 0 ? (logLevelValue as Record<string, string>) : {}),
    notes,
  };
}
