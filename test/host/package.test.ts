import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { REPO_ROOT, startHost, type HostProcess } from '../helpers/local-host-process.js';
import { unzipInto } from '../helpers/unzip.js';

/** The built tool behind `npm run package` (the script builds first; npm test has built already). */
const PACKAGE_APP = fileURLToPath(new URL('../../dist/scripts/package-app.js', import.meta.url));
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

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

  it('ships what runs and nothing else: no TypeScript, maps, tests, tools, infra or devDependencies', () => {
    for (const f of ['host.json', 'package.json', 'package-lock.json', 'subscriptions.json']) expect(entries).toContain(f);
    expect(entries.filter((e) => /\.(ts|mts|cts|map)$/.test(e))).toEqual([]);
    const top = new Set(entries.map((e) => e.split('/')[0]));
    expect([...top].sort()).toEqual(['dist', 'host.json', 'node_modules', 'package-lock.json', 'package.json', 'subscriptions.json']);
    expect(new Set(entries.filter((e) => e.startsWith('dist/')).map((e) => e.split('/')[1]))).toEqual(new Set(['functions', 'shared']));
    const built = filesUnder(join(REPO_ROOT, 'dist', 'functions')).filter((f) => f.endsWith('.js'));
    expect(entries.filter((e) => e.startsWith('dist/functions/'))).toEqual(built.map((f) => `dist/functions/${f}`));
    const installed = new Set(
      entries
        .filter((e) => e.startsWith('node_modules/'))
        .map((e) =>
          e
            .split('/')
            .slice(1, e.startsWith('node_modules/@') ? 3 : 2)
            .join('/'),
        ),
    );
    for (const dep of Object.keys(pkg.dependencies)) expect(installed, dep).toContain(dep);
    // A devDependency that a production dependency also needs ships, as npm installs it with --omit=dev (the
    // Azure Monitor distro's instrumentations need @types/node and yaml); the others do not.
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    for (const dev of Object.keys(pkg.devDependencies).filter((d) => lock.packages[`node_modules/${d}`]?.dev)) expect(installed, dev).not.toContain(dev);
    for (const tool of ['typescript', 'vitest', 'azurite', 'fflate', 'vite']) expect(installed).not.toContain(tool);
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

  describe('unzipped and loaded under the local host', () => {
    let azurite: AzuriteProcess;
    let host: HostProcess;
    beforeAll(async () => {
      azurite = await testAzurite();
      host = await startHost(unzipped, {
        AzureWebJobsStorage: azurite.connectionString,
        LOCAL_GRAPH_SIMULATOR: 'true',
        'AzureWebJobs.reconcileSubscriptions.Disabled': 'false',
        // Relative, as infra/main.bicep sets it: the app's own folder is the worker's, in Azure and here.
        SUBSCRIPTIONS_FILE: 'subscriptions.json',
        SUBSCRIPTIONS_TABLE: uniqueName('pkgsubs').replace(/-/g, ''),
      });
    });
    afterAll(async () => {
      await host?.stop();
      await azurite?.stop();
    });

    it('registers every function the repository registers, from the packaged node_modules', async () => {
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

    it('runs the operator CLIs (subscriptions, replay) from built JavaScript with production dependencies only', () => {
      // The package's node_modules has no devDependency (checked above): the CLIs' dist/cli beside it must do.
      cpSync(join(REPO_ROOT, 'dist', 'cli'), join(unzipped, 'dist', 'cli'), { recursive: true });
      const env = {
        ...process.env,
        AzureWebJobsStorage: azurite.connectionString,
        SUBSCRIPTIONS_FILE: '',
        GRAPH_NOTIFICATION_URL: `${host.url}/api/notifications?code=k`,
        GRAPH_LIFECYCLE_URL: `${host.url}/api/lifecycle?code=k`,
      };
      const check = spawnSync(process.execPath, ['dist/cli/subscriptions.js', 'check-endpoints', '--json'], { cwd: unzipped, env, encoding: 'utf8' });
      expect(check.status, check.stderr).toBe(0);
      expect((JSON.parse(check.stdout) as { ok: boolean }[]).map((r) => r.ok)).toEqual([true, true]);
      const replay = spawnSync(process.execPath, ['dist/cli/replay.js', '--from', 'deadletter', '--dry-run', '--json'], { cwd: unzipped, env, encoding: 'utf8' });
      expect(replay.status, replay.stderr).toBe(0);
      expect(JSON.parse(replay.stdout)).toMatchObject({ from: 'deadletter', dryRun: true, moved: 0 });
    });
  });
});
