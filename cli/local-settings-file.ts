import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../shared/errors.js';

/**
 * The `Values` of `local.settings.json` in `appDir` (none when the file is absent), as Core Tools reads them:
 * an object of strings. A file that is not so is a ConfigError naming what is wrong.
 */
export function readLocalSettingsValues(appDir: string): Record<string, string> {
  const path = join(appDir, 'local.settings.json');
  if (!existsSync(path)) return {};
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError([`local.settings.json is not valid JSON: ${(e as Error).message}`]);
  }
  const raw = (json as { Values?: unknown }).Values ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(['local.settings.json: "Values" must be an object.']);
  const bad = Object.entries(raw)
    .filter(([, v]) => typeof v !== 'string')
    .map(([k]) => k);
  if (bad.length > 0) throw new ConfigError([`local.settings.json: Values must be strings; not so for ${bad.join(', ')}.`]);
  return raw as Record<string, string>;
}

/**
 * App settings as the app sees them: `defaults`, then local.settings.json's `Values`, then the environment
 * (app settings are environment variables in Azure). An empty value means "not set": a default given for
 * it applies (else the app's own default does).
 */
export function mergeAppSettings(values: Record<string, string>, env: NodeJS.ProcessEnv, defaults: Record<string, string> = {}): Record<string, string> {
  const merged: Record<string, string> = { ...defaults };
  for (const source of [values, env]) for (const [k, v] of Object.entries(source)) if (v !== undefined && (v !== '' || !(k in defaults))) merged[k] = v;
  return merged;
}
