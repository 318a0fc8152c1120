import type { InvocationContext } from '@azure/functions';
import { countingLogger } from '../../shared/metrics/counting-logger.js';
import { noMetrics, type Metrics } from '../../shared/metrics/metrics.js';
import { logLine, type Logger, type LogFields, type LogLevel } from '../../shared/log.js';
import type { StructuredLogSink } from './telemetry.js';

/**
 * The invocation's own log, one JSON object per line, so the host correlates it with the invocation; each
 * outcome it logs is counted in `metrics`. With a structured sink (Application Insights configured) each
 * line also goes there as a log record with its fields as properties.
 */
export function invocationLogger(context: InvocationContext, metrics: Metrics = noMetrics, structured?: StructuredLogSink): Logger {
  const line = (level: LogLevel, event: string, fields: LogFields = {}) => {
    const text = logLine({ event, ...fields });
    if (structured) {
      const { event: _event, ...masked } = JSON.parse(text) as LogFields; // the fields as the line shows them: secrets masked
      structured(level, event, masked, { functionName: context.functionName, invocationId: context.invocationId });
    }
    return text;
  };
  return countingLogger(
    {
      info: (event, fields) => context.info(line('info', event, fields)),
      warn: (event, fields) => context.warn(line('warn', event, fields)),
      error: (event, fields) => context.error(line('error', event, fields)),
    },
    metrics,
  );
}
