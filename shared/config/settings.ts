import { ConfigError } from '../errors.js';
import { backfillSettings, type BackfillSettings } from './settings/backfill.js';
import { certificateSettings, type CertificateSettings } from './settings/certificates.js';
import { readArea, valueOf, type Env, type SettingDefinition, type SettingsArea } from './settings/define.js';
import { graphSettings, type GraphSettings } from './settings/graph.js';
import { healthSettings, type HealthSettings } from './settings/health.js';
import { unresolvedKeyVaultReferences } from './settings/key-vault-reference.js';
import { metricsSettings, type MetricsSettings } from './settings/metrics.js';
import { receiveSettings, type ReceiveSettings } from './settings/receive.js';
import { routeSettings, type RouteSettings } from './settings/route.js';
import { subscriptionSettings, type SubscriptionSettings } from './settings/subscriptions.js';
import { storageSettings, type StorageSettings } from './settings/storage.js';
import { tenantSettings, type TenantSettings } from './settings/tenants.js';

export { isDevelopment, type SettingDefinition } from './settings/define.js';
export { LOCAL_APP_ID, LOCAL_CLIENT_STATE, LOCAL_TENANT_ID, MICROSOFT_JWKS_URL } from './settings/receive.js';
export type { BackfillSettings, CertificateSettings, GraphSettings, HealthSettings, MetricsSettings, ReceiveSettings, RouteSettings, StorageSettings, SubscriptionSettings, TenantSettings };

/**
 * The settings' areas, each in its own file under settings/ with one zod schema: a setting is defined,
 * documented and validated in its area, once. A new area is added here and to Settings.
 */
const AREAS: readonly SettingsArea<object>[] = [
  storageSettings,
  receiveSettings,
  graphSettings,
  certificateSettings,
  routeSettings,
  subscriptionSettings,
  backfillSettings,
  metricsSettings,
  healthSettings,
  tenantSettings,
];

/**
 * Every setting the app reads. README.md's configuration table and local.settings.json.example list exactly
 * these names (a test keeps them in step).
 */
export const SETTING_DEFINITIONS: readonly SettingDefinition[] = AREAS.flatMap((area) => area.definitions);

/** All settings: each area's slice, side by side. Factories take only the slices they use. */
export type Settings = { readonly environment: string } & StorageSettings &
  ReceiveSettings &
  GraphSettings &
  CertificateSettings &
  RouteSettings &
  SubscriptionSettings &
  BackfillSettings &
  MetricsSettings &
  HealthSettings &
  TenantSettings;

/** The value a setting has in this environment: set value, else its default for this environment. */
export function settingValue(env: Env, name: string): string | undefined {
  const definition = SETTING_DEFINITIONS.find((d) => d.name === name);
  return definition ? valueOf(env, definition) : env[name]?.trim() || undefined;
}

/**
 * Reads and validates every setting once. Throws one ConfigError naming each bad setting (one line each).
 * A Key Vault reference App Service could not resolve is that setting's one problem: what its area would say
 * of the reference's text (not a URL, a required setting missing) would only hide the cause.
 */
export function readSettings(env: Env): Settings {
  const unresolved = unresolvedKeyVaultReferences(
    env,
    SETTING_DEFINITIONS.map((d) => d.name),
  );
  const problems: string[] = unresolved.map((u) => u.problem);
  const slices: object[] = [];
  for (const area of AREAS) {
    const read = readArea(area, env);
    if (read.ok) slices.push(read.slice);
    else problems.push(...read.problems.filter((p) => !unresolved.some((u) => new RegExp(`\\b${u.name}\\b`).test(p))));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const settings = Object.assign({ environment: env.AZURE_FUNCTIONS_ENVIRONMENT ?? 'Production' }, ...slices) as Settings;
  problems.push(...sharedContainers(settings));
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}

/**
 * The blob containers must differ: each is pruned by its own rule (claim checks after
 * CLAIM_CHECK_RETENTION_DAYS, event payloads after EVENT_PAYLOAD_RETENTION_DAYS, dead letters never), so a
 * container shared by two would lose what the longer-lived one keeps (a dead letter's blob, a payload
 * consumers still read).
 */
function sharedContainers(settings: Settings): string[] {
  const containers: [string, string][] = [
    ['NOTIFICATIONS_CONTAINER', settings.notificationsContainer],
    ['EVENTS_CONTAINER', settings.eventsContainer],
    ['DEAD_LETTER_CONTAINER', settings.deadLetterContainer],
  ];
  return containers.flatMap(([name, value], i) =>
    containers
      .slice(i + 1)
      .flatMap(([other, otherValue]) => (value === otherValue ? [`${name} and ${other} must name different blob containers (both are "${value}"): each has its own retention.`] : [])),
  );
}
