import { mergeAppSettings, readLocalSettingsValues } from '../../cli/local-settings-file.js';
import { ConfigError } from '../../shared/errors.js';
import { HostConfigError } from './host-errors.js';

/**
 * The app settings a local run sees, as with Core Tools: `Values` of local.settings.json when present,
 * overridden by environment variables (as app settings are environment variables in Azure), with
 * `AZURE_FUNCTIONS_ENVIRONMENT=Development` always (Core Tools' rule: it cannot be overridden locally) and
 * `AzureWebJobsStorage=UseDevelopmentStorage=true` unless storage is set. Operator CLIs never use this loader:
 * they must not fall back on local defaults when pointed at Azure (see cli/cli-settings.ts).
 * `defaults` (from the tool that starts the host, such as the Graph simulator's URLs) yield to both.
 * `environment` Production (as in Azure): AZURE_FUNCTIONS_ENVIRONMENT=Production and no
 * UseDevelopmentStorage=true fallback.
 */
export function loadAppSettings(appDir: string, env: NodeJS.ProcessEnv, defaults: Record<string, string> = {}, environment: 'Development' | 'Production' = 'Development'): Record<string, string> {
  let values: Record<string, string>;
  try {
    values = readLocalSettingsValues(appDir);
  } catch (e) {
    throw new HostConfigError(e instanceof ConfigError ? e.problems.join(' ') : (e as Error).message);
  }
  const merged = mergeAppSettings(values, env, defaults);
  if (environment === 'Production') return { ...merged, AZURE_FUNCTIONS_ENVIRONMENT: 'Production' };
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
