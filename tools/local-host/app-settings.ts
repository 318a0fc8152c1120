import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostConfigError } from './host-errors.js';

/**
 * The app settings a local run sees, as with Core Tools: `Values` of local.settings.json when present,
 * overridden by environment variables (as app settings are environment variables in Azure), with
 * `AZURE_FUNCTIONS_ENVIRONMENT=Development` and `AzureWebJobsStorage=UseDevelopmentStorage=true` unless set.
 * `defaults` (from the tool that starts the host, such as the Graph simulator's URLs) yield to both.
 */
export function loadAppSettings(appDir: string, env: NodeJS.ProcessEnv, defaults: Record<string, string> = {}): Record<string, string> {
  const path = join(appDir, 'local.settings.json');
  let values: Record<string, string> = {};
  if (existsSync(path)) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new HostConfigError(`local.settings.json is not valid JSON: ${(e as Error).message}`);
    }
    const raw = (json as { Values?: unknown }).Values ?? {};
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new HostConfigError('local.settings.json: "Values" must be an object.');
    const bad = Object.entries(raw)
      .filter(([, v]) => typeof v !== 'string')
      .map(([k]) => k);
    if (bad.length > 0) throw new HostConfigError(`local.settings.json: Values must be strings; not so for ${bad.join(', ')}.`);
    values = raw as Record<string, string>;
  }
  // An empty value means "not set": the default (or the app's own default) applies.
  const merged: Record<string, string> = { ...defaults };
  for (const source of [values, env]) for (const [k, v] of Object.entries(source)) if (v !== undefined && (v !== '' || !(k in defaults))) merged[k] = v;
  const identityBased = Object.entries(merged).some(([k, v]) => k.startsWith('AzureWebJobsStorage__') && v.trim() !== '');
  if (!merged.AzureWebJobsStorage?.trim() && !identityBased) merged.AzureWebJobsStorage = 'UseDevelopmentStorage=true';
  merged.AZURE_FUNCTIONS_ENVIRONMENT = 'Development';
  return merged;
}

/**
 * Whether an app setting turns a function off, as the host reads it: `AzureWebJobs.<name>.Disabled` or, since
 * Linux shells and /bin/sh cannot carry a dot in an environment variable name, `AzureWebJobs_<name>_Disabled`;
 * the name without regard to case (app settings are case-insensitive), the value "true" or "1" (any case).
 */
export function isFunctionDisabled(settings: Record<string, string | undefined>, functionName: string): boolean {
  const names = new Set([`azurewebjobs.${functionName}.disabled`, `azurewebjobs_${functionName}_disabled`].map((n) => n.toLowerCase()));
  return Object.entries(settings).some(([key, value]) => names.has(key.toLowerCase()) && /^(true|1)$/i.test(value ?? ''));
}
