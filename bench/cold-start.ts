/**
 * `npm run bench` (part): the HTTP group's cold start. The deployment package is made (`npm run package`), an
 * instance of the HTTP group is spawned on it (the local host alone, bench/http-instance.ts bundled into one
 * file, running only the HTTP functions, as a Flex instance of that group would) and timed from spawn to the first answered validation
 * handshake, beside a bare Node HTTP server's start, spawned and polled the same way in the same run. Also the
 * package's size and file count. Figures: coldStartMs, bareServerStartMs, packageMB, packageFiles.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { freePort, startAzurite } from '../dev/azurite/azurite-process.js';
import { REQUIRE_BANNER } from '../scripts/package/bundle-app.js';
import { recordFigures } from './figures.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const HTTP_INSTANCE = fileURLToPath(new URL('./http-instance.js', import.meta.url));
const PACKAGE_APP = fileURLToPath(new URL('../scripts/package-app.js', import.meta.url));
const RUNS = Number(process.env.BENCH_COLD_STARTS ?? 3);

function filesUnder(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? filesUnder(join(dir, e.name)) : 1), 0);
}

/** Spawns, then polls `url` with POST until it answers 200; the milliseconds from spawn to that answer. */
async function timeToFirstAnswer(start: () => ChildProcess, url: string): Promise<number> {
  const started = performance.now();
  const child = start();
  const exited = new Promise((r) => child.once('exit', r));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the process exited with ${child.exitCode} before answering`);
      try {
        const res = await fetch(url, { method: 'POST' });
        if (res.status === 200) return performance.now() - started;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const out = mkdtempSync(join(tmpdir(), 'tcr-cold-'));
const azurite = await startAzurite();
try {
  const made = spawnSync(process.execPath, [PACKAGE_APP, '--subscriptions', 'subscriptions.example.json', '--routes', 'none', '--out', out], { cwd: REPO, encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`npm run package failed:\n${made.stderr}`);
  const zip = made.stdout.trim().split('\n').at(-1) ?? '';
  const app = join(out, 'app');
  // The local host plays the Functions host and worker, which are one prebuilt program in Azure, running before
  // the app loads and sharing no module with it: bundled into one file, it loads once and cheaply, and the app
  // loads every dependency from its own package, as it does there (the host's node_modules would lend an
  // unbundled app the Azure SDKs the host had loaded already).
  const instance = join(out, 'host', 'http-instance.mjs');
  await build({
    entryPoints: [HTTP_INSTANCE],
    outfile: instance,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    minify: true,
    keepNames: true,
    banner: { js: REQUIRE_BANNER },
    logLevel: 'silent',
  });
  const token = 'Validation: Testing client application reachability';
  const cold: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const port = await freePort();
    cold.push(
      await timeToFirstAnswer(
        () =>
          spawn(process.execPath, [instance, app, String(port)], {
            // One Flex instance of the HTTP group (FUNCTIONS_TARGET_GROUP, as the topology starts it): no queue or timer
            // function is started (their files are imported all the same: the worker imports every file `main` names).
            env: {
              ...process.env,
              LOCAL_GRAPH_SIMULATOR: 'false',
              AzureWebJobsStorage: azurite.connectionString,
              // As infra/ sets it: the file the package ships.
              SUBSCRIPTIONS_FILE: 'subscriptions.json',
              FUNCTIONS_TARGET_GROUP: 'http',
            },
            stdio: 'ignore',
            cwd: app,
          }),
        `http://127.0.0.1:${port}/api/notifications?validationToken=${encodeURIComponent(token)}`,
      ),
    );
    const barePort = await freePort();
    bare.push(
      await timeToFirstAnswer(
        () => spawn(process.execPath, ['-e', `require('node:http').createServer((q, s) => s.end('ok')).listen(${barePort}, '127.0.0.1')`], { stdio: 'ignore' }),
        `http://127.0.0.1:${barePort}/`,
      ),
    );
  }
  const figures = { coldStartMs: median(cold), bareServerStartMs: median(bare), packageMB: statSync(zip).size / 1024 / 1024, packageFiles: filesUnder(app) };
  console.log(`cold start of the HTTP group on the package: ${JSON.stringify({ ...figures, runs: RUNS, coldStarts: cold.map(Math.round), bareStarts: bare.map(Math.round) })}`);
  recordFigures(figures);
} finally {
  await azurite.stop();
  rmSync(out, { recursive: true, force: true });
}
