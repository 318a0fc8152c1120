import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Settings } from '../shared/config/settings.js';
import { ConfigError, InvalidDefinitionError } from '../shared/errors.js';
import { maskSecrets } from '../shared/util/mask-secrets.js';
import { readCliSettings, SITE_SETTINGS_ONLY } from './cli-settings.js';
import { readAzureStackState } from './azure-stack-state.js';
import { cleanProcessEnv } from './clean-process-env.js';

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
  let parsed;
  try {
    parsed = parseArgs({ options: { ...options, app: { type: 'string' as const, default: process.cwd() }, azure: { type: 'boolean' as const, default: false } }, allowPositionals, strict: true });
  } catch (e) {
    return exitWithUsage(usage, (e as Error).message);
  }
  const common = parsed.values as { azure?: boolean; app?: string };
  if (common.azure) runAgainstAzureStack(common.app ?? process.cwd());
  return parsed;
}

/**
 * `--azure`: the CLI runs against the Azure-shaped stack started from the app's folder (`npm start -- --azure`),
 * as an operator's would against Azure (docs/deploy.md step 9): again, in a process whose settings are the
 * operator's shell for that stack only (the site's settings, no local.settings.json, none of this shell's),
 * Production, with the operator's own identity and its roles, and trust in the stand-ins.
 * Returns in that process; the first exits with its code.
 */
function runAgainstAzureStack(appDir: string): void {
  if (process.env[SITE_SETTINGS_ONLY] === '1') return;
  const state = readAzureStackState(appDir);
  if (!state) {
    printError(`No Azure-shaped stack was started from ${appDir}: start one with npm start -- --azure.`);
    process.exit(EXIT.config);
  }
  // In the app's folder, as the site's process runs: relative settings (SUBSCRIPTIONS_FILE) resolve there.
  const run = spawnSync(process.execPath, [...process.argv.slice(1), '--app', resolve(appDir)], {
    cwd: resolve(appDir),
    stdio: 'inherit',
    env: cleanProcessEnv({ ...state.operatorEnv, NODE_EXTRA_CA_CERTS: state.trust, [SITE_SETTINGS_ONLY]: '1' }),
  });
  process.exit(run.status ?? EXIT.failed);
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
