import type { LogLevel } from './core-api.js';
import { LogLevels, type HostLogLevel } from './log-levels.js';

/**
 * The local host's output: one JSON object per line on stdout. A function's log message that is itself a
 * JSON object is merged into the line, so structured logs stay structured. host.json `logging.logLevel`
 * filters a function's own logs (category `Function.<name>.User`) and the line per invocation
 * (`Function.<name>`: Information, Error when it failed), as in the host; the local host's other lines
 * (start-up, shutdown, faults) are always written.
 */
export interface HostLog {
  host(level: 'info' | 'warn' | 'error', event: string, fields?: Record<string, unknown>): void;
  function(functionName: string, invocationId: string, level: LogLevel, message: string): void;
}

const HOST_LEVELS: Record<LogLevel, HostLogLevel> = {
  trace: 'trace',
  debug: 'debug',
  information: 'information',
  warning: 'warning',
  error: 'error',
  critical: 'critical',
  none: 'none',
};

const LEVELS: Record<LogLevel, string> = {
  trace: 'debug',
  debug: 'debug',
  information: 'info',
  warning: 'warn',
  error: 'error',
  critical: 'error',
  none: 'info',
};

export function createHostLog(write: (line: string) => void = (l) => process.stdout.write(l + '\n'), levels: LogLevels = new LogLevels()): HostLog {
  return {
    host: (level, event, fields = {}) => {
      if (event === 'invocation' && !levels.allows(`Function.${String(fields.function)}`, level === 'error' ? 'error' : 'information')) return;
      write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }));
    },
    function: (functionName, invocationId, level, message) => {
      if (!levels.allows(`Function.${functionName}.User`, HOST_LEVELS[level] ?? 'information')) return;
      let fields: Record<string, unknown> = { message };
      if (message.startsWith('{')) {
        try {
          const parsed = JSON.parse(message) as unknown;
          if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) fields = parsed as Record<string, unknown>;
        } catch {
          // not JSON: keep the text
        }
      }
      write(
        JSON.stringify({
          time: new Date().toISOString(),
          level: LEVELS[level] ?? 'info',
          event: 'function.log',
          ...fields,
          function: functionName,
          invocationId,
        }),
      );
    },
  };
}
