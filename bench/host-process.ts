import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const START_LOCAL = fileURLToPath(new URL('../dev/start-local.js', import.meta.url));

/**
 * `npm start`'s entry point running the real app as a child process on a free port, for benchmarks: no
 * simulator, no subscription reconciling, the given settings. Its output is drained (errors can be echoed).
 */
export async function startHostProcess(env: Record<string, string>, options: { echoErrors?: boolean } = {}): Promise<{ url: string; stop: () => Promise<void> }> {
  // BENCH_HOST_PROFILE=<dir>: the host writes a V8 CPU profile there when it stops (open it in Chrome DevTools).
  const profile = process.env.BENCH_HOST_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_HOST_PROFILE}`] : [];
  const host = spawn(process.execPath, [...profile, START_LOCAL, '--app', REPO, '--port', '0'], {
    env: { ...process.env, LOCAL_GRAPH_SIMULATOR: 'false', 'AzureWebJobs.reconcileSubscriptions.Disabled': 'true', ...env },
    stdio: ['ignore', 'pipe', 'ignore'],
    // The app's relative settings (SUBSCRIPTIONS_FILE, ROUTES_FILE) are read from the repository, as under npm start.
    cwd: REPO,
  });
  const exited = new Promise((r) => host.once('exit', r));
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    host.stdout.on('data', (d: Buffer) => {
      buffer = (buffer + d.toString()).slice(-20_000);
      const m = /"event":"host\.started","url":"([^"]+)"/.exec(buffer);
      if (m?.[1]) resolve(m[1]);
      if (options.echoErrors && /"level":"error"/.test(d.toString())) process.stderr.write(d);
    });
    host.once('exit', (code) => reject(new Error(`the local host exited with ${code}`)));
  });
  return {
    url,
    stop: async () => {
      host.kill('SIGTERM');
      await exited;
    },
  };
}
