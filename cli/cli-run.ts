import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Settings } from '../shared/config/settings.js';
import { ConfigError, InvalidDefinitionError } from '../shared/errors.js';
import { maskSecrets } from '../shared/util/mask-secrets.js';
import { readCliSettings } from './cli-settings.js';

/** The exit codes every operator CLI uses. */
export const EXIT = { ok: 0, failed: 1, usage: 2, config: 3 } as const;

/** The exit code of a failure: 3 for a setting or a file the settings name (routes, subscriptions) found wrong, else 1. */
export const exitCodeOf = (e: unknown): number => (e instanceof ConfigError || e instanceof InvalidDefinitionError ? EXIT.config : EXIT.failed);

/** Writes to stderr with every `code=` key masked. */
export const printError = (text: string) => process.stderr.write(maskSecrets(text.endsWith('\n') ? text : `${text}\n`));

/** Ends the CLI for bad usage: the problem (if any), then the usage line, exit code 2. */
export function exitWithUsage(usage: string, problem?: string): never {
  printError(problem ? `${problem}\n${usage}` : usage);
  process.exit(EXIT.usage);
}

/**
 * The CLI's arguments, with `--app <folder>` (where local.settings.json is; default: the current folder)
 * added to `options`; bad arguments end it with the usage (exit code 2).
 */
export function parseCliArgs<O extends NonNullable<ParseArgsConfig['options']>>(usage: string, options: O, allowPositionals = false) {
  try {
    return parseArgs({ options: { ...options, app: { type: 'string' as const, default: process.cwd() } }, allowPositionals, strict: true });
  } catch (e) {
    return exitWithUsage(usage, (e as Error).message);
  }
}

/**
 * The settings the CLI `name` runs with (see readCliSettings), after one line on stderr saying which
 * environment, storage account and Graph it talks to. Invalid settings end it (exit code 3, each problem named).
 */
export function loadCliSettings(name: string, appDir: string): Settings {
  try {
    const { settings, target } = readCliSettings(appDir, process.env);
    printError(`${name}: ${target}`);
    return settings;
  } catch (e) {
    printError((e as Error).message);
    return process.exit(exitCodeOf(e));
  }
}
