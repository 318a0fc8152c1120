#!/usr/bin/env node
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startGraphSimulator, type GraphSimulator } from './graph-simulator/graph-simulator.js';
import { LOCAL_SIMULATOR_OPTIONS } from './graph-simulator/local-defaults.js';
import { DRIVER_PREFIX } from './graph-simulator/server.js';
import { describeLocalApp, startLocalHost, type LocalHost } from './local-host/local-host.js';
import { loadAppSettings } from './local-host/app-settings.js';
import { startFlexStack } from './flex/flex-stack.js';
import { triggerSettingDefaults } from '../shared/config/trigger-settings.js';
import { runAzureStackCommand } from './azure-stack/azure-stack-command.js';
import { describeSiteApp, startSiteHost, type AzureSite } from './azure-stack/site-host.js';
import { startSiteTopology } from './azure-stack/site-topology.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHostLog } from './local-host/host-log.js';

/** A whole number above zero from a command-line option, or a clear refusal. */
function positive(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${option} must be a whole number above zero, not "${value}".`);
  return n;
}

/**
 * `npm start`: the whole stack on one laptop. The Graph simulator (unless LOCAL_GRAPH_SIMULATOR=false),
 * then the local Functions host with the app, whose GRAPH_BASE_URL and GRAPH_JWKS_URL default to the
 * simulator (local.settings.json and environment variables still win). The host starts Azurite when
 * storage is UseDevelopmentStorage=true.
 *   --app <folder>         the function app (default: the current folder); the app runs with it as its folder
 *   --port <n>             the Functions host (default 7071; 0: any free port)
 *   --simulator-port <n>   the Graph simulator (default 7072; 0: any free port)
 *   --environment <name>   Development (default, as Core Tools runs an app) or Production (as Azure does:
 *                          AZURE_FUNCTIONS_ENVIRONMENT=Production, function keys enforced)
 *   --azure                the Azure-shaped stack instead (docs/local-host.md): the app on Flex's topology in Production with the
 *                          settings infra/main.bicep gives it, every Azure service a local stand-in
 *   --template <file>      with --azure: deploy this compiled template instead of compiling infra/main.bicep
 *   --site <file>          the app alone as an Azure site whose stand-ins run elsewhere: the site's settings,
 *                          platform variables and identity from <file> (AzureSite JSON; the chaos run's --azure)
 *   --graph-roles <list>   with --azure: the Graph application permissions an admin consented to (comma-separated;
 *                          default: those docs/deploy.md grants)
 *   --single-process       with --azure: the site on one host in one process, not on Flex's topology
 *   --flex                 Flex Consumption's topology (docs/local-host.md): each function group in its own
 *                          processes, started when work arrives and stopped when idle, HTTP behind one front door
 *   --route-instances <n>  with --flex or --azure: instances of each route partition while it has work (default 2)
 *   --idle-seconds <n>     with --flex or --azure: an instance idle this long is stopped (default 60)
 * Used by the topology itself: --group <name> runs one instance of a function group (FUNCTIONS_TARGET_GROUP,
 * the settings from the environment as given), --describe prints the app's index and exits.
 */
const { values } = parseArgs({
  options: {
    app: { type: 'string', default: process.cwd() },
    port: { type: 'string', default: '7071' },
    'simulator-port': { type: 'string', default: '7072' },
    environment: { type: 'string', default: 'Development' },
    azure: { type: 'boolean', default: false },
    template: { type: 'string' },
    'graph-roles': { type: 'string' },
    site: { type: 'string' },
    flex: { type: 'boolean', default: false },
    'single-process': { type: 'boolean', default: false },
    'route-instances': { type: 'string' },
    'idle-seconds': { type: 'string' },
    group: { type: 'string' },
    describe: { type: 'boolean', default: false },
  },
});

if (values.environment !== 'Development' && values.environment !== 'Production') {
  process.stderr.write(`--environment must be Development or Production, not "${values.environment}".\n`);
  process.exit(2);
}
const environmentOption: 'Development' | 'Production' = values.environment;

if (values.describe && !values.site) {
  // The app's index, as its host makes it with the settings given (the topology's scale controller reads it).
  try {
    const functions = await describeLocalApp({ appDir: resolve(values.app), environment: environmentOption, log: quietLog() });
    process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level: 'info', event: 'host.functions_indexed', functions }) + '\n');
    process.exit(0);
  } catch (e) {
    process.stderr.write(`Could not index the app.\n${(e as Error).message}\n`);
    process.exit(1);
  }
} else if (values.group && !values.site) {
  // One instance of one function group, with the settings its topology gives it in the environment.
  process.env.FUNCTIONS_TARGET_GROUP = values.group;
  await startHostProcess(() => {
    process.chdir(resolve(values.app));
    // The topology says which instance started; no banner per instance.
    return startLocalHost({ appDir: resolve(values.app), port: Number(values.port), environment: environmentOption, banner: () => undefined });
  });
} else if (values.site) {
  // A site of a stack whose stand-ins run elsewhere (the chaos run's --azure): the app as that site, on Flex's
  // topology with --flex, or one instance of it (--group, as the topology starts them; or the whole app).
  const site = JSON.parse(readFileSync(resolve(values.site), 'utf8')) as AzureSite;
  if (values.group) process.env.FUNCTIONS_TARGET_GROUP = values.group;
  if (values.describe) {
    try {
      const functions = await describeSiteApp(site, { appDir: resolve(values.app), log: quietLog() });
      process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level: 'info', event: 'host.functions_indexed', functions }) + '\n');
      process.exit(0);
    } catch (e) {
      process.stderr.write(`Could not index the app.\n${(e as Error).message}\n`);
      process.exit(1);
    }
  } else if (values.flex) {
    await startTopologyProcess(() =>
      startSiteTopology(site, {
        appDir: resolve(values.app),
        port: Number(values.port),
        workDir: dirname(resolve(values.site as string)),
        ...flexOptions(),
      }),
    );
  } else {
    await startHostProcess(() => startSiteHost(site, { appDir: resolve(values.app), port: Number(values.port), ...(values.group ? { banner: () => undefined } : {}) }));
  }
} else if (values.azure) {
  try {
    await runAzureStackCommand({
      appDir: resolve(values.app),
      port: Number(values.port),
      simulatorPort: Number(values['simulator-port']),
      ...(values.template ? { templateFile: resolve(values.template) } : {}),
      ...(values['graph-roles']
        ? {
            graphRoles: values['graph-roles']
              .split(',')
              .map((r) => r.trim())
              .filter(Boolean),
          }
        : {}),
      singleProcess: values['single-process'],
      ...flexOptions(),
    });
  } catch (e) {
    process.stderr.write(`Could not start.\n${(e as Error).message}\n`);
    process.exit(1);
  }
} else {
  await startDevelopmentStack();
}

/** A host's log for --describe: its lines on stderr, so that stdout holds the index alone. */
function quietLog() {
  return createHostLog((line) => process.stderr.write(line + '\n'));
}

/** The topology's --route-instances and --idle-seconds, when given. */
function flexOptions(): { routeInstances?: number; idleMs?: number } {
  return {
    ...(values['route-instances'] ? { routeInstances: positive(values['route-instances'], '--route-instances') } : {}),
    ...(values['idle-seconds'] ? { idleMs: positive(values['idle-seconds'], '--idle-seconds') * 1000 } : {}),
  };
}

/** Runs a topology as this process: stopped (its instances with it) on SIGINT/SIGTERM. */
async function startTopologyProcess(start: () => Promise<{ stop(): Promise<void> }>): Promise<void> {
  try {
    const topology = await start();
    const stop = () => void topology.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  } catch (e) {
    process.stderr.write(`Could not start.\n${(e as Error).message}\n`);
    process.exit(1);
  }
}

/**
 * Runs one host as its own process: stopped on SIGINT/SIGTERM, shut down (exit 1) when it faults, as in Azure.
 * An instance of a topology (--group) also stops when its topology's end of stdin closes (the topology died).
 */
async function startHostProcess(start: () => Promise<LocalHost>): Promise<void> {
  try {
    const host = await start();
    const stop = () => void host.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (values.group) process.stdin.once('close', stop).resume();
    void host.faulted.then((error) => {
      process.stderr.write(`The host is shutting down: ${error.message}\n`);
      void host.stop().then(() => process.exit(1));
    });
  } catch (e) {
    process.stderr.write(`Could not start.\n${(e as Error).message}\n`);
    process.exit(1);
  }
}

async function startDevelopmentStack(): Promise<void> {
  let simulator: GraphSimulator | undefined;
  let host: { stop(): Promise<void> } | undefined;
  // Signal handlers first: a signal that arrives while the host starts stops it once started, rather than
  // killing the process half-way (the host may already run start-up timers before it reports host.started).
  let signals = 0;
  let stopWhenStarted: number | undefined;
  const shutdown = (exitCode: number) => {
    if (++signals > 1) process.exit(130);
    if (!host) {
      stopWhenStarted = exitCode;
      return;
    }
    void host
      .stop()
      .then(() => simulator?.close())
      .then(() => process.exit(exitCode));
  };
  process.on('SIGINT', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));
  try {
    // The host resolves the triggers' %SETTING% expressions itself and knows no app defaults: as infra/ does in
    // Azure, the app's defaults are given for those nothing else sets, so `npm start` needs no set-up.
    const defaults: Record<string, string> = { ...triggerSettingDefaults() };
    const port = Number(values.port);
    const environment = environmentOption;
    // In Production the endpoints want a function key, which a default URL could not carry: set
    // GRAPH_NOTIFICATION_URL and GRAPH_LIFECYCLE_URL with ?code= (the host's keys, docs/local-host.md).
    if (port !== 0 && environment === 'Development') {
      // The URLs the app gives Graph for its subscriptions follow the port the host listens on.
      defaults.GRAPH_NOTIFICATION_URL = `http://127.0.0.1:${port}/api/notifications`;
      defaults.GRAPH_LIFECYCLE_URL = `http://127.0.0.1:${port}/api/lifecycle`;
    }
    if ((process.env.LOCAL_GRAPH_SIMULATOR ?? 'true').toLowerCase() !== 'false') {
      simulator = await startGraphSimulator({ ...LOCAL_SIMULATOR_OPTIONS, port: Number(values['simulator-port']) });
      defaults.GRAPH_BASE_URL = simulator.baseUrl;
      defaults.GRAPH_JWKS_URL = simulator.jwksUrl;
      process.stdout.write(
        JSON.stringify({
          time: new Date().toISOString(),
          level: 'info',
          event: 'simulator.started',
          url: simulator.baseUrl,
          jwksUrl: simulator.jwksUrl,
          driver: simulator.baseUrl + DRIVER_PREFIX,
          tenantId: simulator.tenantId,
          appId: simulator.appId,
        }) + '\n',
      );
      process.stderr.write(`Graph simulator on ${simulator.baseUrl} (driver API ${simulator.baseUrl}${DRIVER_PREFIX}); LOCAL_GRAPH_SIMULATOR=false to use real Graph\n`);
    }
    // The app runs in its own folder, whichever folder this was started from: relative settings
    // (SUBSCRIPTIONS_FILE=subscriptions.json as infra/ sets it, ROUTES_FILE, LOCAL_CERTIFICATE_DIR) resolve
    // against it, as in Azure, where the host starts the worker in the function app's folder (and the Node
    // worker moves to it again when a pre-warmed instance is given the app).
    const appDir = resolve(values.app);
    process.chdir(appDir);
    if (values.flex) {
      // Each instance gets the settings this host would run with, in its environment (its own files are read again, to the same result).
      const settings = loadAppSettings(appDir, process.env, defaults, environment);
      host = await startFlexStack({
        appDir,
        port,
        settings,
        host: { args: [fileURLToPath(import.meta.url), '--app', appDir, '--environment', environment], env: settings, cwd: appDir },
        ...flexOptions(),
      });
    } else {
      const local = await startLocalHost({ appDir, port, defaultSettings: defaults, environment });
      host = local;
      // As in Azure, an unhandled exception in the host (a queue listener faulted by a storage 403) shuts it down.
      void local.faulted.then((error) => {
        process.stderr.write(`The host is shutting down: ${error.message}\n`);
        shutdown(1);
      });
    }
    if (stopWhenStarted !== undefined) {
      signals = 0;
      shutdown(stopWhenStarted);
    }
  } catch (e) {
    await simulator?.close();
    process.stderr.write(`Could not start.\n${(e as Error).message}\n`);
    process.exit(1);
  }
}
