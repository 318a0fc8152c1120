import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The app settings a local run sees, as with Core Tools: `Values` of local.settings.json when present,
 * overridden by environment variables (as app settings are environment variables in Azure), with
 * `AZURE_FUNCTIONS_ENVIRONMENT=Development` and `AzureWebJobsStorage=UseDevelopmentStorage=true` unless set.
 */
export function loadAppSettings(appDir: string, env: NodeJS.ProcessEnv): Record<string, string> {
  const path = join(appDir, 'local.settings.json');
  let values: Record<string, string> = {};
  if (existsSync(path)) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new Error(`local.settings.json is not valid JSON: ${(e as Error).message}`);
    }
    const raw = (json as { Values?: unknown }).Values ?? {};
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('local.settings.json: "Values" must be an object.');
    const bad = Object.entries(raw).filter(([, v]) => typeof v !== 'string').map(([k]) => k);
    if (bad.length > 0) throw new Error(`local.settings.json: Values must be strings; not so for ${bad.join(', ')}.`);
    values = raw as Record<string, string>;
  }
  const merged: Record<string, string> = { ...values };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;
  const identityBased = Object.entries(merged).some(([k, v]) => k.startsWith('AzureWebJobsStorage__') && v.trim() !== '');
  if (!merged.AzureWebJobsStorage?.trim() && !identityBased) merged.AzureWebJobsStorage = 'UseDevelopmentStorage=true';
  merged.AZURE_FUNCTIONS_ENVIRONMENT = 'Development';
  return merged;
}
