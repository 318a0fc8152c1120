import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AZURITE_ACCOUNT, AZURITE_KEY, azuriteConnectionString } from '../../shared/config/storage-connection.js';
import { RelayError } from '../../shared/errors.js';

/** Azurite exited or did not listen during start-up; the message holds its output. */
export class AzuriteStartError extends RelayError {
  constructor(message: string) {
    super('ERR_AZURITE_START', message);
  }
}

export interface AzuritePorts {
  readonly blob: number;
  readonly queue: number;
  readonly table: number;
}

export interface StartAzuriteOptions {
  /** Folder for Azurite's data; omitted: in memory, lost when it stops. */
  readonly location?: string;
  /** Ports to listen on; omitted: free ports chosen for this run. */
  readonly ports?: AzuritePorts;
  readonly host?: string;
  readonly startTimeoutMs?: number;
  /** More storage accounts beside the well-known one, each under the well-known key (an empty storage each). */
  readonly accounts?: readonly string[];
  /**
   * Serve HTTPS with this certificate and key (PEM; the loopback certificate) instead of HTTP. Azurite reads
   * them from files: they are written to a private temporary folder, removed when Azurite stops.
   */
  readonly tls?: { readonly cert: string; readonly key: string };
  /**
   * Accept bearer tokens (`--oauth basic`; needs `tls`): Azurite then checks a token's shape only (issuer
   * `https://sts.windows.net/…`, audience `https://storage.azure.com` or the account's service URL, `nbf`, `exp`,
   * `iat`), never its signature nor any role: the storage role gate in front of it does what Azure checks.
   * Shared key requests are still accepted (the stack's provisioning uses them, never the app).
   */
  readonly oauth?: 'basic';
}

export interface AzuriteProcess {
  readonly ports: AzuritePorts;
  /** The storage account `connectionString` names. */
  readonly account: string;
  readonly connectionString: string;
  readonly pid: number | undefined;
  /** Stops Azurite and waits for it to exit. */
  stop(): Promise<void>;
  /** Kills Azurite at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
}

/** A port that is free now on the loopback interface. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function isPortOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}

function azuriteEntryPoint(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
}

/** The well-known account's connection string over HTTPS (`tls`), as azuriteConnectionString gives it over HTTP. */
function httpsConnectionString(host: string, ports: AzuritePorts): string {
  const endpoint = (port: number) => `https://${host}:${port}/${AZURITE_ACCOUNT}`;
  return [
    'DefaultEndpointsProtocol=https',
    `AccountName=${AZURITE_ACCOUNT}`,
    `AccountKey=${AZURITE_KEY}`,
    `BlobEndpoint=${endpoint(ports.blob)}`,
    `QueueEndpoint=${endpoint(ports.queue)}`,
    `TableEndpoint=${endpoint(ports.table)}`,
  ].join(';');
}

/**
 * Starts Azurite (from devDependencies) as a child process and resolves once its blob, queue and table
 * endpoints accept connections. `--skipApiVersionCheck` lets the current SDKs talk to it.
 */
export async function startAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteProcess> {
  const host = options.host ?? '127.0.0.1';
  const ports = options.ports ?? { blob: await freePort(host), queue: await freePort(host), table: await freePort(host) };
  if (options.oauth && !options.tls) throw new AzuriteStartError('Azurite accepts bearer tokens over HTTPS only: give tls with oauth.');
  const args = [
    azuriteEntryPoint(),
    '--silent',
    '--skipApiVersionCheck',
    '--disableTelemetry',
    '--blobHost',
    host,
    '--blobPort',
    String(ports.blob),
    '--queueHost',
    host,
    '--queuePort',
    String(ports.queue),
    '--tableHost',
    host,
    '--tablePort',
    String(ports.table),
  ];
  if (options.location) {
    mkdirSync(options.location, { recursive: true });
    args.push('--location', options.location);
  } else {
    args.push('--inMemoryPersistence');
  }
  const tlsDir = options.tls ? mkdtempSync(join(tmpdir(), 'tcr-azurite-tls-')) : undefined;
  if (options.tls && tlsDir) {
    writeFileSync(join(tlsDir, 'cert.pem'), options.tls.cert, { mode: 0o600 });
    writeFileSync(join(tlsDir, 'key.pem'), options.tls.key, { mode: 0o600 });
    args.push('--cert', join(tlsDir, 'cert.pem'), '--key', join(tlsDir, 'key.pem'));
  }
  if (options.oauth) args.push('--oauth', options.oauth);
  const removeTls = () => tlsDir && rmSync(tlsDir, { recursive: true, force: true });
  // AZURITE_ACCOUNTS replaces Azurite's accounts, so the well-known one is named in it too.
  const accounts = options.accounts?.length ? { AZURITE_ACCOUNTS: [AZURITE_ACCOUNT, ...options.accounts].map((name) => `${name}:${AZURITE_KEY}`).join(';') } : {};
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...accounts } });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    removeTls();
  });

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (hasExited) throw new AzuriteStartError(`Azurite exited during start-up:\n${output}`);
    const open = await Promise.all([ports.blob, ports.queue, ports.table].map((p) => isPortOpen(p, host)));
    if (open.every(Boolean)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new AzuriteStartError(`Azurite did not start within ${options.startTimeoutMs ?? 30_000} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const stopWith = async (signal: NodeJS.Signals) => {
    if (hasExited) return;
    child.kill(signal);
    await exited;
  };
  return {
    ports,
    pid: child.pid,
    account: AZURITE_ACCOUNT,
    connectionString: options.tls ? httpsConnectionString(host, ports) : azuriteConnectionString(host, ports),
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
  };
}
