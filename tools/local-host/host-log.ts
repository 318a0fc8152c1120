import type { LogLevel } from './core-api.js';

/**
 * The local host's output: one JSON object per line on stdout. A function's log message that is itself a
 * JSON object is merged into the line, so structured logs stay structured.
 */
export interface HostLog {
  host(level: 'info' | 'warn' | 'error', event: string, fields?: Record<string, unknown>): void;
  function(functionName: string, invocationId: string, level: LogLevel, message: string): void;
}

const LEVELS: Record<LogLevel, string> = {
  trace: 'debug',
  debug: 'debug',
  information: 'info',
  warning: 'warn',
  error: 'error',
  critical: 'error',
  none: 'info',
};

export function createHostLog(write: (line: string) => void = (l) => process.stdout.write(l + '\n')): HostLog {
  return {
    host: (level, event, fields = {}) => write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields })),
    function: (functionName, invocationId, level, message) => {
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
