import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIngestionStandIn, type Envelope, type IngestionStandIn } from '../../dev/app-insights/ingestion-stand-in.js';
import { loopbackCertificate } from '../../dev/tls/loopback-certificate.js';
import { queueService, testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { eventually } from '../helpers/eventually.js';
import { REPO_ROOT, startHost, type HostProcess } from '../helpers/local-host-process.js';
import { queueUndecryptableNotification } from '../helpers/notifications.js';
import { unzipInto } from '../helpers/unzip.js';

/** The built tool behind `npm run package` (the script builds first; npm test has built already). */
const PACKAGE_APP = fileURLToPath(new URL('../../dist/scripts/package-app.js', import.meta.url));
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { main: string; type: string };
/** #26's budget for the package (zip and unzipped alike). */
const MAX_PACKAGE_BYTES = 8 * 1024 * 1024;

function packageApp(args: string[]) {
  return spawnSync(process.execPath, [PACKAGE_APP, ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
}
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map((p) => String(p))
    .filter((p) => statSync(join(dir, p)).isFile())
    .map((p) => p.split(sep).join('/'))
    .sort();
}
/** Links the repository's top-level production packages (package-lock.json, not dev) into `dir`/node_modules. */
function linkProductionPackages(dir: string): void {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  for (const [path, meta] of Object.entries(lock.packages)) {
    if (!path.startsWith('node_modules/') || path.lastIndexOf('node_modules/') !== 0 || meta.dev || !existsSync(join(REPO_ROOT, path))) continue;
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    symlinkSync(join(REPO_ROOT, path), join(dir, path), 'dir');
  }
}
/** Every function a host registered: those it started (HTTP, queue, timer) and those the settings disabled. */
function registered(host: HostProcess): string[] {
  const started = host.lines.find((l) => l.event === 'host.started') as { http: { function: string }[]; queues: { function: string }[]; timers: { function: string }[] };
  const disabled = host.lines.filter((l) => l.event === 'host.function_disabled').map((l) => String(l.function));
  return [...started.http, ...started.queues, ...started.timers]
    .map((f) => f.function)
    .concat(disabled)
    .sort();
}

describe('npm run package', () => {
  let out: string;
  let zipPath: string;
  let entries: string[];
  let unzipped: string;

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'tcr-package-'));
    const r = packageApp(['--subscriptions', 'subscriptions.example.json', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    zipPath = r.stdout.trimEnd().split('\n').at(-1) ?? '';
    unzipped = join(out, 'unzipped');
    entries = unzipInto(zipPath, unzipped);
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("prints the zip's path last; the zip holds exactly the staged folder azd and func publish deploy", () => {
    expect(zipPath).toBe(join(out, 'teams-change-relay-0.1.0.zip'));
    expect(statSync(zipPath).isFile()).toBe(true);
    expect(entries).toEqual(filesUnder(join(out, 'app')));
    expect(readFileSync(join(unzipped, 'subscriptions.json'), 'utf8')).toBe(readFileSync(join(REPO_ROOT, 'subscriptions.example.json'), 'utf8'));
  });

  it('ships what runs and nothing else: the bundle, no node_modules, no TypeScript, maps, tests, tools or infra', () => {
    for (const f of ['host.json', 'package.json', 'subscriptions.json']) expect(entries).toContain(f);
    expect(entries.filter((e) => /\.(ts|mts|cts|map)$/.test(e))).toEqual([]);
    expect(entries.filter((e) => e.split('/').includes('node_modules'))).toEqual([]);
    const top = new Set(entries.map((e) => e.split('/')[0]));
    expect([...top].sort()).toEqual(['.funcignore', 'dist', 'host.json', 'package.json', 'subscriptions.json']);
    expect(new Set(entries.filter((e) => e.startsWith('dist/')).map((e) => e.split('/')[1]))).toEqual(new Set(['functions', 'chunks']));
    // One file per function file package.json `main` names, and nothing else there: the shared code is in chunks/.
    const functionFiles = readdirSync(join(REPO_ROOT, 'dist', 'functions')).filter((f) => f.endsWith('.js'));
    expect(entries.filter((e) => e.startsWith('dist/functions/'))).toEqual(functionFiles.sort().map((f) => `dist/functions/${f}`));
    expect(entries.filter((e) => e.startsWith('dist/chunks/') && e.endsWith('.js')).length).toBeGreaterThan(0);
  });

  it('ships ES modules that all parse, the chunks no test loads (code paths only Azure takes) among them', () => {
    const files = entries.filter((e) => e.endsWith('.js')).map((e) => join(unzipped, e));
    // Parsed, not run: a banner's `require` colliding with a bundled module's own would be a SyntaxError here.
    const parse = `const vm = require('node:vm'), fs = require('node:fs'); for (const f of process.argv.slice(1)) new vm.SourceTextModule(fs.readFileSync(f, 'utf8'), { identifier: f });`;
    const r = spawnSync(process.execPath, ['--experimental-vm-modules', '--no-warnings', '-e', parse, ...files], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(files.length).toBeGreaterThan(20);
  });

  it("registers every function through the Azure worker's own hook too (a proxied Module.prototype.require)", () => {
    // The local host answers for @azure/functions-core in Module._load; the worker proxies Module.prototype.require
    // (azure-functions-nodejs-worker's setupCoreModule). The bundle's require must reach either.
    const load = `
      const Module = require('node:module'), fs = require('node:fs'), names = [];
      const core = { registerFunction: (m) => { names.push(m.name); return { dispose() {} }; }, setProgrammingModel() {}, registerHook: () => ({ dispose() {} }), log() {} };
      Module.prototype.require = new Proxy(Module.prototype.require, { apply: (t, self, a) => (a[0] === '@azure/functions-core' ? core : Reflect.apply(t, self, a)) });
      (async () => { for (const f of fs.readdirSync('dist/functions').sort()) await import('./dist/functions/' + f); process.stderr.write(JSON.stringify(names.sort())); })();`;
    const r = spawnSync(process.execPath, ['-e', load], { cwd: unzipped, encoding: 'utf8', env: { ...process.env, SUBSCRIPTIONS_FILE: '' } });
    expect(r.status, r.stderr).toBe(0);
    const names = JSON.parse(r.stderr.slice(r.stderr.lastIndexOf('['))) as string[];
    expect(names).toContain('notifications');
    expect(names.length).toBeGreaterThanOrEqual(6);
  });

  it('keeps a copy of the zip for a rollback, named by version, build time and commit', () => {
    const releases = readdirSync(join(out, 'releases'));
    expect(releases).toHaveLength(1);
    expect(releases[0]).toMatch(/^teams-change-relay-0\.1\.0-\d{8}T\d{6}Z-([0-9a-f]{8}(-dirty)?|nogit)\.zip$/);
    expect(readFileSync(join(out, 'releases', releases[0] ?? ''))).toEqual(readFileSync(zipPath));
  });

  it('ships a .funcignore that ignores nothing: azd before 1.23.12 drops node_modules from a folder without one, and func publish applies defaults', () => {
    const lines = readFileSync(join(out, 'app', '.funcignore'), 'utf8').split('\n');
    expect(lines.some((l) => l.startsWith('#'))).toBe(true);
    expect(lines.filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))).toEqual([]);
  });

  it('ships a package.json with nothing to install or build: the worker reads main and type', () => {
    const shipped = JSON.parse(readFileSync(join(unzipped, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(shipped).toMatchObject({ name: 'teams-change-relay', version: '0.1.0', main: pkg.main, type: pkg.type });
    for (const key of ['dependencies', 'devDependencies', 'optionalDependencies', 'scripts']) expect(shipped, key).not.toHaveProperty(key);
    expect(entries).not.toContain('package-lock.json');
  });

  it("stays within #26's size budget, zipped and unzipped", () => {
    expect(statSync(zipPath).size).toBeLessThan(MAX_PACKAGE_BYTES);
    expect(filesUnder(unzipped).reduce((n, f) => n + statSync(join(unzipped, f)).size, 0)).toBeLessThan(MAX_PACKAGE_BYTES);
  });

  it('refuses without a subscriptions file, saying what to do, and refuses an invalid one', () => {
    const missing = packageApp(['--subscriptions', 'no-such-subscriptions.json', '--out', join(out, 'missing')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('copy subscriptions.example.json to subscriptions.json');
    const bad = join(out, 'bad-subscriptions.json');
    writeFileSync(bad, JSON.stringify({ subscriptions: [{ name: 'x', resource: '/nowhere', changeTypes: ['created'] }] }));
    const invalid = packageApp(['--subscriptions', bad, '--out', join(out, 'invalid')]);
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toContain('mistake');
  });

  describe('unzipped and loaded under the local host, with Application Insights', () => {
    let azurite: AzuriteProcess;
    let ingestion: IngestionStandIn;
    let host: HostProcess;
    beforeAll(async () => {
      azurite = await testAzurite();
      ingestion = await startIngestionStandIn();
      host = await startHost(unzipped, {
        AzureWebJobsStorage: azurite.connectionString,
        LOCAL_GRAPH_SIMULATOR: 'true',
        'AzureWebJobs.reconcileSubscriptions.Disabled': 'false',
        // Relative, as infra/main.bicep sets it: the app's own folder is the worker's, in Azure and here.
        SUBSCRIPTIONS_FILE: 'subscriptions.json',
        SUBSCRIPTIONS_TABLE: uniqueName('pkgsubs').replace(/-/g, ''),
        LOCAL_CERTIFICATE_DIR: join(out, 'certs'),
        // The bundled Azure Monitor distro (loaded only when this is set) exports to the ingestion stand-in.
        APPLICATIONINSIGHTS_CONNECTION_STRING: ingestion.connectionString,
        NODE_EXTRA_CA_CERTS: (await loopbackCertificate()).caFile,
        OTEL_METRIC_EXPORT_INTERVAL: '1000',
        OTEL_BLRP_SCHEDULE_DELAY: '200',
      });
    }, 120_000);
    afterAll(async () => {
      await host?.stop();
      await ingestion?.close();
      await azurite?.stop();
    });

    it('registers every function the repository registers, from the bundle alone', async () => {
      // No node_modules in the package nor in any folder above it: an import the bundle left out cannot resolve.
      for (let dir = unzipped; dir !== dirname(dir); dir = dirname(dir)) expect(existsSync(join(dir, 'node_modules')), dir).toBe(false);
      const repo = await startHost(REPO_ROOT, { AzureWebJobsStorage: azurite.connectionString });
      try {
        expect(registered(host)).toEqual(registered(repo));
      } finally {
        await repo.stop();
      }
      expect(registered(host).length).toBeGreaterThanOrEqual(6);
      expect(host.lines.some((l) => l.event === 'host.function_disabled')).toBe(false);
      const res = await fetch(`${host.url}/api/notifications?validationToken=packaged`, { method: 'POST' });
      expect(await res.text()).toBe('packaged');
    });

    it("reconciles the packaged subscriptions file with the simulator's Graph", async () => {
      const reconciled = await host.waitFor((l) => l.event === 'subscriptions.reconciled', 60_000);
      const desired = (JSON.parse(readFileSync(join(unzipped, 'subscriptions.json'), 'utf8')) as { subscriptions: unknown[] }).subscriptions;
      expect(reconciled).toMatchObject({ created: desired.length, failed: 0, skipped: 0 });
    });

    it('sends the invocation log lines and the counters through the bundled Azure Monitor distro', async () => {
      await queueUndecryptableNotification(queueService(azurite).getQueueClient('graph-notifications'));
      const waitForItem = (what: string, match: (e: Envelope) => boolean) =>
        eventually(
          () => ingestion.items.find(match),
          () => `${what}; received: ${ingestion.items.map((i) => i.name).join(', ')}`,
          { timeoutMs: 120_000, intervalMs: 100 },
        );
      const line = await waitForItem('the dead-letter log record', (e) => e.data?.baseData?.message === 'route.dead_lettered');
      expect(line.data?.baseData?.properties).toMatchObject({ event: 'route.dead_lettered', reason: 'unknown_certificate', 'faas.name': 'routeNotifications' });
      const metric = await waitForItem('the dead-letter counter', (e) => e.data?.baseData?.metrics?.some((m) => m.name === 'relay.dead_letters') === true);
      expect(metric.data?.baseData?.properties).toEqual({ reason: 'unknown_certificate' });
      // One telemetry path: the worker declares WorkerOpenTelemetryEnabled, and the host honours it (it forwards no
      // Function.* line of its own) only in OpenTelemetry mode.
      expect((JSON.parse(readFileSync(join(unzipped, 'host.json'), 'utf8')) as { telemetryMode?: string }).telemetryMode).toBe('OpenTelemetry');
      expect(ingestion.requests.map((r) => r.status).filter((status) => status !== 200)).toEqual([]);
    });

    it('runs the operator CLIs (subscriptions, replay) from built JavaScript with production dependencies only', () => {
      // The CLIs are not in the package: they run from the repository's build, beside production packages alone.
      const operator = join(out, 'operator');
      for (const folder of ['cli', 'shared']) cpSync(join(REPO_ROOT, 'dist', folder), join(operator, 'dist', folder), { recursive: true });
      writeFileSync(join(operator, 'package.json'), JSON.stringify({ type: pkg.type }));
      linkProductionPackages(operator);
      const env = {
        ...process.env,
        AzureWebJobsStorage: azurite.connectionString,
        SUBSCRIPTIONS_FILE: '',
        GRAPH_NOTIFICATION_URL: `${host.url}/api/notifications?code=k`,
        GRAPH_LIFECYCLE_URL: `${host.url}/api/lifecycle?code=k`,
      };
      const check = spawnSync(process.execPath, ['dist/cli/subscriptions.js', 'check-endpoints', '--json'], { cwd: operator, env, encoding: 'utf8' });
      expect(check.status, check.stderr).toBe(0);
      expect((JSON.parse(check.stdout) as { ok: boolean }[]).map((r) => r.ok)).toEqual([true, true]);
      const replay = spawnSync(process.execPath, ['dist/cli/replay.js', '--from', 'deadletter', '--dry-run', '--json'], { cwd: operator, env, encoding: 'utf8' });
      expect(replay.status, replay.stderr).toBe(0);
      // The one dead letter is the notification the telemetry test above queued; a dry run moves nothing but counts it.
      expect(JSON.parse(replay.stdout)).toMatchObject({ from: 'deadletter', dryRun: true, moved: 1 });
    });
  });
});
