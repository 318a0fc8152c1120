#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startGraphSimulator, type GraphSimulator } from './graph-simulator/graph-simulator.js';
import { LOCAL_SIMULATOR_OPTIONS } from './graph-simulator/local-defaults.js';
import { DRIVER_PREFIX } from './graph-simulator/server.js';
import { startLocalHost, type LocalHost } from './local-host/local-host.js';
import { triggerSettingDefaults } from '../shared/config/trigger-settings.js';
import { runAzureStackCommand } from './azure-stack/azure-stack-command.js';
import { startSiteHost, type AzureSite } from './azure-stack/site-host.js';
import { readFileSync } from 'node:fs';

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
 *   --azure                the Azure-shaped stack instead (docs/local-host.md): the app in Production with the
 *                          settings infra/main.bicep gives it, every Azure service a local stand-in
 *   --template <file>      with --azure: deploy this compiled template instead of compiling infra/main.bicep
 *   --site <file>          the app alone as an Azure site whose stand-ins run elsewhere: the site's settings,
 *                          platform variables and identity from <file> (AzureSite JSON; the chaos run's --azure)
 *   --graph-roles <list>   with --azure: the Graph application permissions an admin consented to (comma-separated;
 *                          default: those docs/deploy.md grants)
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
  },
});

if (values.site) {
  // One site process of a stack whose stand-ins run elsewhere (the chaos run's --azure): the app as that site.
  try {
    const site = JSON.parse(readFileSync(resolve(values.site), 'utf8')) as AzureSite;
    const host = await startSiteHost(site, { appDir: resolve(values.app), port: Number(values.port) });
    const stop = () => void host.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    void host.faulted.then((error) => {
      process.stderr.write(`The host is shutting down: ${error.message}\n`);
      void host.stop().then(() => process.exit(1));
    });
  } catch (e) {
    process.stderr.write(`Could not start.\n${(e as Error).message}\n`);
    process.exit(1);
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
    });
  } catch (e) {
    process.stderr.write(`Could not start.\n${(e as Error).message}\n`);
    process.exit(1);
  }
} else {
  await startDevelopmentStack();
}

async function startDevelopmentStack(): Promise<void> {
  let simulator: GraphSimulator | undefined;
  let host: LocalHost | undefined;
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
    const environment = values.environment;
    if (environment !== 'Development' && environment !== 'Production') throw new Error(`--environment must be Development or Production, not "${environment}".`);
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
    host = await startLocalHost({ appDir, port, defaultSettings: defaults, environment });
    if (stopWhenStarted !== undefined) {
      signals = 0;
      shutdown(stopWhenStarted);
    }
    // As in Azure, an unhandled exception in the host (a queue listener faulted by a storage 403) shuts it down.
    void host.faulted.then((error) => {
      process.stderr.write(`The host is shutting down: ${error.message}\n`);
      shutdown(1);
    });
  } catch (e) {
    await simulator?.close();
    process.stderr.write(`Could not start.\n${(e as Error).message}\n`);
    process.exit(1);
  }
}
