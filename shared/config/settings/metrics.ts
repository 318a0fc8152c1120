import { settingsArea } from './define.js';
import { rule, SettingProblem, tableName, wholeNumber } from './validators.js';

export interface MetricsSettings {
  readonly metrics: {
    readonly table: string;
    readonly flushSeconds: number;
    /** Days an hour's counters are kept in the table before the daily prune deletes them. */
    readonly retentionDays: number;
    /** Set: counters and logs also go to Application Insights. */
    readonly appInsights?: {
      readonly connectionString: string;
      /** `Authorization=AAD`: telemetry is sent with a managed identity's token (the resource may refuse keys). */
      readonly entraAuthentication: boolean;
      /** The user-assigned identity's client id; absent with Entra authentication: the system-assigned identity. */
      readonly managedIdentityClientId?: string;
    };
  };
}

const METRICS_SETTINGS = {
  METRICS_TABLE: {
    default: 'metrics',
    description: "Table of the relay's counters (accepted, rejected, routed, duplicates, dead letters, backfilled), one entity per hour and instance, read by `npm run status` and /api/status.",
    read: tableName,
  },
  METRICS_FLUSH_SECONDS: {
    default: '60',
    localDefault: '10',
    description: 'How often each instance writes its counters to METRICS_TABLE (one storage operation per write); counts of the last interval are lost if the instance dies.',
    read: wholeNumber(1, 3600),
  },
  METRICS_RETENTION_DAYS: {
    default: '30',
    description:
      'Days the hourly counters are kept in METRICS_TABLE before the daily prune timer deletes them (Table storage has no TTL): at least 1, since `npm run status` and /api/status read the last 24 hours.',
    read: wholeNumber(1, 36_500),
  },
  APPLICATIONINSIGHTS_CONNECTION_STRING: {
    description: "Application Insights: when set, the counters are also OpenTelemetry metrics and invocation logs are structured log records, sent through Azure Monitor's OpenTelemetry distro.",
    read: rule((v: string, name: string) =>
      v === '' || /(^|;)\s*(InstrumentationKey|ConnectionString)=/i.test(v)
        ? v
        : new SettingProblem(`${name} must be an Application Insights connection string (InstrumentationKey=…;IngestionEndpoint=…).`),
    ),
  },
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: {
    description:
      "`ClientId=<client id>;Authorization=AAD`: the app sends telemetry with that managed identity (Entra authentication, as infra/ sets up) instead of the connection string's key; `Authorization=AAD` alone: with the system-assigned identity.",
    read: rule((v: string, name: string) =>
      v === '' || /(^|;)\s*Authorization=AAD\s*(;|$)/i.test(v) ? v : new SettingProblem(`${name} must read \`Authorization=AAD\` (with \`ClientId=<client id>\` for a user-assigned identity).`),
    ),
  },
};

/** The relay's counters (METRICS_TABLE) and Application Insights. */
export const metricsSettings = settingsArea(METRICS_SETTINGS, {
  slice: (v): MetricsSettings => {
    const clientId = /(?:^|;)\s*ClientId=([^;]+)/i.exec(v.APPLICATIONINSIGHTS_AUTHENTICATION_STRING)?.[1]?.trim();
    return {
      metrics: {
        table: v.METRICS_TABLE,
        flushSeconds: v.METRICS_FLUSH_SECONDS,
        retentionDays: v.METRICS_RETENTION_DAYS,
        ...(v.APPLICATIONINSIGHTS_CONNECTION_STRING
          ? {
              appInsights: {
                connectionString: v.APPLICATIONINSIGHTS_CONNECTION_STRING,
                entraAuthentication: /(^|;)\s*Authorization=AAD\s*(;|$)/i.test(v.APPLICATIONINSIGHTS_AUTHENTICATION_STRING),
                ...(clientId ? { managedIdentityClientId: clientId } : {}),
              },
            }
          : {}),
      },
    };
  },
});
