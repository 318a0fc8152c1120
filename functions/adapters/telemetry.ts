import { app } from '@azure/functions';
import { ManagedIdentityCredential } from '@azure/identity';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import type { Settings } from '../../shared/config/settings.js';
import type { LogFields, LogLevel } from '../../shared/log.js';

/** Writes one structured log record: the event as its body, the fields as its attributes. */
export type StructuredLogSink = (level: LogLevel, event: string, fields: LogFields, invocation: { functionName: string; invocationId: string }) => void;

const SEVERITY: Record<LogLevel, SeverityNumber> = { info: SeverityNumber.INFO, warn: SeverityNumber.WARN, error: SeverityNumber.ERROR };

/** OpenTelemetry attributes are primitives or arrays of them: anything else goes as its JSON. */
function attributeOf(value: unknown): string | number | boolean | string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  return JSON.stringify(value);
}

/**
 * Tells the host that the worker sends its own telemetry (`WorkerOpenTelemetryEnabled`, as Microsoft's
 * Functions instrumentation does), so that it does not send the same lines again. The host takes setup
 * options only while the app's files load, so this runs then, when Application Insights is configured.
 */
export function declareWorkerTelemetry(env: Readonly<Record<string, string | undefined>>): void {
  if (env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim()) app.setup({ capabilities: { WorkerOpenTelemetryEnabled: true } });
}

/**
 * Azure Monitor's OpenTelemetry distro, when APPLICATIONINSIGHTS_CONNECTION_STRING is set (with the managed
 * identity of APPLICATIONINSIGHTS_AUTHENTICATION_STRING when given): the global meter provider then exports
 * the relay's counters, and the returned sink sends each invocation log line as a log record whose fields
 * are attributes (customDimensions in Application Insights), not a JSON string. Unset: nothing is loaded and
 * undefined is returned. The distro's HTTP and Azure SDK instrumentations are turned off: tracing each queue,
 * blob and table call as a dependency would be the bulk of the bill for nothing the counters and log lines do
 * not say (docs/scale.md, telemetry).
 */
export async function startTelemetry(settings: Settings): Promise<StructuredLogSink | undefined> {
  const ai = settings.metrics.appInsights;
  if (!ai) return undefined;
  const { useAzureMonitor } = await import('@azure/monitor-opentelemetry');
  useAzureMonitor({
    azureMonitorExporterOptions: {
      connectionString: ai.connectionString,
      // Authorization=AAD without a ClientId is the system-assigned identity, as the Functions host reads it.
      ...(ai.entraAuthentication ? { credential: ai.managedIdentityClientId ? new ManagedIdentityCredential({ clientId: ai.managedIdentityClientId }) : new ManagedIdentityCredential() } : {}),
    },
    instrumentationOptions: { http: { enabled: false }, azureSdk: { enabled: false } },
  });
  const logger = logs.getLogger('teams-change-relay');
  return (level, event, fields, invocation) => {
    const attributes: Record<string, string | number | boolean | string[]> = { event, 'faas.name': invocation.functionName, 'faas.invocation_id': invocation.invocationId };
    for (const [k, v] of Object.entries(fields)) {
      const a = attributeOf(v);
      if (a !== undefined && !(k in attributes)) attributes[k] = a;
    }
    logger.emit({ severityNumber: SEVERITY[level], severityText: level.toUpperCase(), body: event, attributes });
  };
}
