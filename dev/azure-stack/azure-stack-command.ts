import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loopbackCertificate, loopbackCertificateDir } from '../tls/loopback-certificate.js';
import { DRIVER_PREFIX } from '../graph-simulator/server.js';
import { startAzureStack, type AzureStack } from './azure-stack.js';
import { azureStackStateFile, type AzureStackState } from '../../cli/azure-stack-state.js';
import { cleanProcessEnv } from '../../cli/clean-process-env.js';

/** Set in the process that runs the stack (started by `npm start -- --azure` with a clean environment). */
const STACK_PROCESS = 'TCR_AZURE_STACK_PROCESS';

export interface AzureStackCommandOptions {
  readonly appDir: string;
  readonly port: number;
  readonly simulatorPort: number;
  /** A compiled template to deploy instead of compiling infra/main.bicep now. */
  readonly templateFile?: string;
  /** The Graph application permissions consented to (default: the stack's, CONSENTED_GRAPH_ROLES). */
  readonly graphRoles?: readonly string[];
  /** The site on one host in the stack's process, instead of Flex's topology (each function group in its own processes). */
  readonly singleProcess?: boolean;
  /** With the topology: instances of each route partition while it has work, and the idle time before an instance stops. */
  readonly routeInstances?: number;
  readonly idleMs?: number;
}

const line = (event: string, fields: Record<string, unknown>) => process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level: 'info', event, ...fields }) + '\n');

/** Compiles `<appDir>/infra/main.bicep` (npm run infra:check) to `<appDir>/.local/infra/main.json`, which it answers. */
export function compileTemplate(appDir: string): string {
  const out = join(appDir, '.local', 'infra');
  const check = spawnSync(process.execPath, [fileURLToPath(new URL('../../scripts/infra-check.js', import.meta.url)), '--out', out], { cwd: appDir, stdio: ['ignore', 2, 2] });
  if (check.status !== 0) throw new Error('infra/main.bicep did not compile (above): the Azure-shaped stack deploys what it compiles to.');
  return join(out, 'main.json');
}

/**
 * `npm start -- --azure`. The first process compiles infra/main.bicep (the template the stack deploys) and
 * starts a second with a site's environment: none of the shell's variables (as an Azure site has none of the
 * operator's), and NODE_EXTRA_CA_CERTS naming the loopback certificate the HTTPS stand-ins serve (Node reads it
 * only at start). The second runs the stack until SIGINT or SIGTERM, which the first passes on.
 */
export async function runAzureStackCommand(options: AzureStackCommandOptions): Promise<void> {
  if (process.env[STACK_PROCESS] === '1') return runStack(options);
  const templateFile = options.templateFile ?? compileTemplate(options.appDir);
  const tls = await loopbackCertificate();
  // The certificate's folder is named, so that the stack finds the very certificate NODE_EXTRA_CA_CERTS trusts.
  const env = cleanProcessEnv({ [STACK_PROCESS]: '1', NODE_EXTRA_CA_CERTS: tls.caFile, TCR_LOOPBACK_TLS_DIR: loopbackCertificateDir() });
  const args = ['--azure', '--app', options.appDir, '--port', String(options.port), '--simulator-port', String(options.simulatorPort), '--template', templateFile];
  if (options.singleProcess) args.push('--single-process');
  for (const [option, value] of [
    ['--route-instances', options.routeInstances],
    ['--idle-seconds', options.idleMs === undefined ? undefined : options.idleMs / 1000],
  ] as const)
    if (value !== undefined) args.push(option, String(value));
  if (options.graphRoles) args.push('--graph-roles', options.graphRoles.join(','));
  const child = spawn(process.execPath, [fileURLToPath(new URL('../start-local.js', import.meta.url)), ...args], { env, stdio: 'inherit', cwd: options.appDir });
  // Ctrl+C reaches both processes (one process group); a signal sent to this one alone is passed on.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  const code = await new Promise<number>((resolve) => child.once('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
  process.exit(code);
}

async function runStack(options: AzureStackCommandOptions): Promise<void> {
  let stack: AzureStack | undefined;
  let stoppingAt: number | undefined;
  let stopWhenStarted: number | undefined;
  const state = azureStackStateFile(options.appDir);
  const stop = (code: number) => {
    // Ctrl+C arrives twice (from the terminal and passed on by the first process): a second signal within a
    // second is that one; a later one is the operator's, and ends at once.
    if (stoppingAt !== undefined) {
      if (Date.now() - stoppingAt > 1000) process.exit(130);
      return;
    }
    stoppingAt = Date.now();
    // A signal during start-up stops the stack once it has started, not half-way.
    if (!stack) {
      stopWhenStarted = code;
      return;
    }
    rmSync(state, { force: true });
    void stack.stop().then(() => process.exit(code));
  };
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  try {
    // The state file's folder, this user's: the topology's site file (its instances' settings) goes there too.
    mkdirSync(join(state, '..'), { recursive: true, mode: 0o700 });
    stack = await startAzureStack({
      appDir: options.appDir,
      port: options.port,
      simulatorPort: options.simulatorPort,
      ...(options.templateFile ? { templateFile: options.templateFile } : {}),
      ...(options.graphRoles ? { graphRoles: options.graphRoles } : {}),
      ...(options.singleProcess
        ? {}
        : {
            flex: {
              workDir: join(state, '..'),
              ...(options.routeInstances !== undefined ? { routeInstances: options.routeInstances } : {}),
              ...(options.idleMs !== undefined ? { idleMs: options.idleMs } : {}),
            },
          }),
    });
  } catch (e) {
    process.stderr.write(`Could not start the Azure-shaped stack.\n${(e as Error).message}\n`);
    process.exit(1);
  }
  if (stopWhenStarted !== undefined) {
    stoppingAt = undefined;
    return stop(stopWhenStarted);
  }
  mkdirSync(join(state, '..'), { recursive: true });
  // For the CLIs' --azure: the site's settings as the app sees them (secrets read from the vault, once), the
  // platform's identity variables, the function key. Local secrets only, readable by this user alone.
  const siteSettings = await stack.siteSettings();
  const stackState: AzureStackState = {
    hostUrl: stack.hostUrl,
    functionKey: stack.functionKey,
    siteSettings,
    platformEnv: stack.site.platformEnv,
    operatorEnv: stack.operatorEnv(siteSettings),
    trust: (await loopbackCertificate()).caFile,
  };
  // Whole, and this user's alone from the first byte (a file left by an earlier run may have other modes).
  const pending = `${state}.${process.pid}`;
  writeFileSync(pending, JSON.stringify(stackState, null, 2), { mode: 0o600 });
  chmodSync(pending, 0o600);
  renameSync(pending, state);
  line('azure_stack.started', {
    url: stack.hostUrl,
    simulator: stack.simulator.baseUrl,
    driver: stack.simulator.baseUrl + DRIVER_PREFIX,
    vault: stack.vault.url,
    queueServiceUri: stack.storage.queueServiceUri,
    tenantId: stack.tenantId,
    appId: stack.identity.clientId,
    state,
  });
  process.stderr.write(`Azure-shaped stack on ${stack.hostUrl} (Production, function keys: see ${state})\n`);
  void stack.host.faulted?.then((error) => {
    process.stderr.write(`The host is shutting down: ${error.message}\n`);
    stop(1);
  });
}
