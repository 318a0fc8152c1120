import type { InvocationContext } from '@azure/functions';
import type { Logger, LogFields } from '../../shared/log.js';

/** The invocation's own log, one JSON object per line, so the host correlates it with the invocation. */
export function invocationLogger(context: InvocationContext): Logger {
  const line = (event: string, fields?: LogFields) => JSON.stringify({ event, ...fields });
  return {
    info: (event, fields) => context.info(line(event, fields)),
    warn: (event, fields) => context.warn(line(event, fields)),
    error: (event, fields) => context.error(line(event, fields)),
  };
}
