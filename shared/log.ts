import { AsyncLocalStorage } from 'node:async_hooks';
import { restStatus } from './errors.js';
import { maskSecrets } from './util/mask-secrets.js';

/**
 * Structured logging seam. Every line is an event name plus fields; never pass secrets, tokens or
 * notification contents as fields. Whatever slips through in a URL (a function key's `code=`, a SAS's
 * `sig=`, quoted in a Graph refusal or a storage error) is masked by `logLine`, which every logger that
 * writes a line out goes through.
 */
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export type LogLevel = 'info' | 'warn' | 'error';

/** One log line: the JSON of `entry`, with every credential in a URL masked (see maskSecrets). */
export function logLine(entry: LogFields): string {
  return maskSecrets(JSON.stringify(entry));
}

/** A logger that writes one JSON object per line to the given sink (stdout by default). */
export function createJsonLogger(write: (line: string) => void = (line) => process.stdout.write(line + '\n'), base: LogFields = {}): Logger {
  const emit = (level: LogLevel, event: string, fields?: LogFields) => write(logLine({ time: new Date().toISOString(), level, event, ...base, ...fields }));
  return {
    info: (event, fields) => emit('info', event, fields),
    warn: (event, fields) => emit('warn', event, fields),
    error: (event, fields) => emit('error', event, fields),
  };
}

/** A logger that remembers what it was told; for tests that assert on security events. */
export interface RecordedLine {
  level: LogLevel;
  event: string;
  fields: LogFields;
}
export function createRecordingLogger(): Logger & { lines: RecordedLine[] } {
  const lines: RecordedLine[] = [];
  const rec =
    (level: LogLevel) =>
    (event: string, fields: LogFields = {}) =>
      void lines.push({ level, event, fields });
  return { lines, info: rec('info'), warn: rec('warn'), error: rec('error') };
}

export function errorFields(e: unknown): LogFields {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const status = restStatus(e);
    return { error: e.message, ...(code !== undefined ? { code } : {}), ...(status !== undefined ? { statusCode: status } : {}) };
  }
  return { error: String(e) };
}

/**
 * A logger for parts built once at start-up (the reconciler, the backfill's gap detector) that writes to the
 * logger of the work in progress when there is one (`within(logger, work)`, e.g. a function invocation's),
 * and to `fallback` otherwise (start-up, work begun outside any invocation).
 */
export function createScopedLogger(fallback: Logger): Logger & { within<T>(logger: Logger, work: () => T): T } {
  const scope = new AsyncLocalStorage<Logger>();
  const current = () => scope.getStore() ?? fallback;
  return {
    info: (event, fields) => current().info(event, fields),
    warn: (event, fields) => current().warn(event, fields),
    error: (event, fields) => current().error(event, fields),
    within: (logger, work) => scope.run(logger, work),
  };
}
