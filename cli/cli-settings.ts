import { readSettings, type Settings } from '../shared/config/settings.js';
import { connectionStringParts, describeStorage, isDevelopmentStorage } from '../shared/config/storage-connection.js';
import { ConfigError } from '../shared/errors.js';
import { mergeAppSettings, readLocalSettingsValues } from './local-settings-file.js';
import { isLoopbackUrl } from '../shared/util/loopback-url.js';

/** Where `npm start` serves the Graph simulator (dev/start-local.ts, `--simulator-port`). */
export const LOCAL_SIMULATOR_URL = 'http://127.0.0.1:7072';

/** The settings an operator CLI runs with, and what it talks to. */
export interface CliSettings {
  readonly settings: Settings;
  /** Development (local defaults) or the environment the settings name (Production when they point at Azure). */
  readonly environment: string;
  /** Why that environment: `AZURE_FUNCTIONS_ENVIRONMENT`, or the settings that point at Azure, or none. */
  readonly because: string;
  /** One line: the environment, the storage endpoint and the Graph the CLI talks to (no secret). */
  readonly target: string;
}

/** A storage connection string that reaches Azurite: UseDevelopmentStorage, or every endpoint on this machine. */
const isLocalStorage = (cs: string) => {
  if (isDevelopmentStorage(cs)) return true;
  const endpoints = [...connectionStringParts(cs)].flatMap(([key, value]) => (key.endsWith('endpoint') ? [value] : []));
  return endpoints.length > 0 && endpoints.every(isLoopbackUrl);
};

/**
 * The settings among `values` that point at Azure rather than at this machine: a storage account (a
 * connection string whose endpoints are not local, any identity-based `AzureWebJobsStorage__*`), Graph
 * (a base URL not local; with none, an authentication other than the simulator's), a Key Vault not local.
 * Local fakes (Azurite, the simulator, a Key Vault fake on this machine) point nowhere.
 */
export function settingsPointingAtAzure(values: Readonly<Record<string, string | undefined>>): string[] {
  const set = (name: string) => values[name]?.trim() || undefined;
  const out: string[] = [];
  const storage = set('AzureWebJobsStorage');
  if (storage && !isLocalStorage(storage)) out.push('AzureWebJobsStorage');
  out.push(...Object.keys(values).filter((k) => k.startsWith('AzureWebJobsStorage__') && set(k) !== undefined));
  const graph = set('GRAPH_BASE_URL');
  if (graph && !isLoopbackUrl(graph)) out.push('GRAPH_BASE_URL');
  // Without a base URL, Graph is Microsoft's: any authentication but the simulator's is meant for it.
  const auth = set('GRAPH_AUTH_MODE');
  if (!graph && auth && auth.toLowerCase() !== 'simulator') out.push('GRAPH_AUTH_MODE');
  const vault = set('KEY_VAULT_URL');
  if (vault && !isLoopbackUrl(vault)) out.push('KEY_VAULT_URL');
  // Credentials only Entra ID takes.
  out.push(...['GRAPH_CLIENT_SECRET', 'GRAPH_CLIENT_CERTIFICATE_PATH', 'AZURE_CLIENT_ID'].filter((name) => set(name) !== undefined));
  return out;
}

/** Set in a CLI run against the Azure-shaped stack (`--azure`): its settings are the site's, in the environment; local.settings.json is not read. */
export const SITE_SETTINGS_ONLY = 'TCR_CLI_SITE_SETTINGS_ONLY';

/**
 * The settings an operator CLI (status, subscriptions, replay, backfill) reads: local.settings.json in
 * `appDir`, then the environment, as the app reads them, in an environment the CLI decides itself, never the
 * local host's forced Development. `AZURE_FUNCTIONS_ENVIRONMENT` when set; else Production as soon as one
 * setting points at Azure, so that a missing setting fails naming it instead of silently meaning Azurite, the
 * simulator or the local certificate folder; else Development, whose local defaults are what `npm start`
 * runs (Azurite, the simulator on its default port), so the CLIs work after it with no set-up.
 */
/** The values a CLI reads: local.settings.json's (unless it runs as the Azure stack's site), then the environment's. */
function cliValues(appDir: string, env: NodeJS.ProcessEnv): Record<string, string> {
  return mergeAppSettings(env[SITE_SETTINGS_ONLY] === '1' ? {} : readLocalSettingsValues(appDir), env);
}

export function readCliSettings(appDir: string, env: NodeJS.ProcessEnv): CliSettings {
  const values = cliValues(appDir, env);
  const explicit = values.AZURE_FUNCTIONS_ENVIRONMENT?.trim();
  const azure = settingsPointingAtAzure(values);
  const environment = explicit || (azure.length > 0 ? 'Production' : 'Development');
  const because = explicit ? 'AZURE_FUNCTIONS_ENVIRONMENT' : azure.length > 0 ? `${azure.join(', ')} point${azure.length === 1 ? 's' : ''} at Azure` : 'no setting points at Azure';
  const development = environment.toLowerCase() === 'development';
  const local = development && !values.GRAPH_BASE_URL?.trim() && (values.GRAPH_AUTH_MODE?.trim() || 'simulator').toLowerCase() === 'simulator' ? { GRAPH_BASE_URL: LOCAL_SIMULATOR_URL } : {};
  const hint = `(${environment}, as ${because}: no local default applies; set AZURE_FUNCTIONS_ENVIRONMENT=Development to use Azurite and the Graph simulator)`;
  let settings: Settings;
  try {
    settings = readSettings({ ...values, ...local, AZURE_FUNCTIONS_ENVIRONMENT: environment });
  } catch (e) {
    if (!(e instanceof ConfigError) || development) throw e;
    throw new ConfigError([...e.problems, hint]);
  }
  // A local value left beside Azure settings (local.settings.json copied from the example) would still mean Azurite or the simulator.
  if (!development) {
    const local = [
      ...(settings.storage.kind === 'connectionString' && isLocalStorage(settings.storage.connectionString)
        ? ['AzureWebJobsStorage points at Azurite: unset it (or set the account) to reach Azure storage.']
        : []),
      ...(settings.graphAuth.mode === 'simulator'
        ? ['GRAPH_AUTH_MODE is simulator: only the local simulator takes its tokens (managedidentity, federated, clientsecret, certificate or default reach Entra ID).']
        : []),
    ];
    if (local.length > 0) throw new ConfigError([...local, hint]);
  }
  const graph = `${settings.graphBaseUrl.origin} (${settings.graphAuth.mode})`;
  return { settings, environment, because, target: `${environment} (${because}) · storage ${describeStorage(settings.storage)} · Graph ${graph}` };
}

/**
 * The two URLs `check-endpoints` calls, and nothing else: it does Graph's handshake from the operator's shell, so
 * it needs neither storage nor Graph credentials, and an operator's environment file exporting GRAPH_AUTH_MODE
 * (docs/deploy.md, path B) must not make it demand the whole of the app's Production settings.
 */
export function readEndpointUrls(appDir: string, env: NodeJS.ProcessEnv): { GRAPH_NOTIFICATION_URL: string; GRAPH_LIFECYCLE_URL: string } {
  const values = cliValues(appDir, env);
  const problems: string[] = [];
  const url = (name: 'GRAPH_NOTIFICATION_URL' | 'GRAPH_LIFECYCLE_URL'): string | undefined => {
    const value = values[name]?.trim();
    if (!value) return void problems.push(`${name} is not set: the URL Graph is given, with its ?code= key (docs/deploy.md step 7).`);
    try {
      const { protocol } = new URL(value);
      if (protocol === 'https:' || protocol === 'http:') return value;
    } catch {
      // said below
    }
    return void problems.push(`${name} is not an http(s) URL.`);
  };
  const notification = url('GRAPH_NOTIFICATION_URL');
  const lifecycle = url('GRAPH_LIFECYCLE_URL');
  if (!notification || !lifecycle) throw new ConfigError(problems);
  return { GRAPH_NOTIFICATION_URL: notification, GRAPH_LIFECYCLE_URL: lifecycle };
}
