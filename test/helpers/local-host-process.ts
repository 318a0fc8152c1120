import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../dev/azurite/azurite-process.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const START_LOCAL = fileURLToPath(new URL('../../dist/dev/start-local.js', import.meta.url));

/** Certificates the app under test creates go here, not into the repo's .local/. */
const CERTIFICATE_DIR = join(mkdtempSync(join(tmpdir(), 'tcr-host-certs-')), 'certificates');

export type HostLine = Record<string, unknown> & { event?: string };

/**
 * `npm start`'s entry point (the built dist/dev/start-local.js) as a child process, on free ports. The Graph
 * simulator is off unless the env given sets LOCAL_GRAPH_SIMULATOR=true.
 */
export interface HostProcess {
  readonly url: string;
  readonly lines: HostLine[];
  readonly stderr: () => string;
  waitFor(predicate: (line: HostLine) => boolean, timeoutMs?: number): Promise<HostLine>;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function runHost(
  appDir: string,
  env: Record<string, string>,
  port = 0,
  args: readonly string[] = [],
): { child: ChildProcess; exit: Promise<number | null>; output: () => { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [START_LOCAL, '--app', appDir, '--port', String(port), '--simulator-port', '0', ...args], {
    // No subscription reconciling unless a test asks for it: without the simulator it would call real Graph.
    env: { ...process.env, LOCAL_GRAPH_SIMULATOR: 'false', LOCAL_CERTIFICATE_DIR: CERTIFICATE_DIR, 'AzureWebJobs.reconcileSubscriptions.Disabled': 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Not the app's folder: the host must run the app in its own folder, as Azure does, whatever it was started from.
    cwd: tmpdir(),
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exit, output: () => ({ stdout, stderr }) };
}

/** Starts the host; `port` keeps a URL known beforehand or across restarts (as a deployed app keeps its own), else a free one. */
export async function startHost(appDir: string, env: Record<string, string>, port?: number, args: readonly string[] = []): Promise<HostProcess> {
  const { child, exit, output } = runHost(appDir, env, port ?? (await freePort()), args);
  const lines: HostLine[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  child.stdout?.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        lines.push(JSON.parse(text) as HostLine);
      } catch {
        lines.push({ event: 'text', text });
      }
      for (const w of waiters) w();
    }
  });
  let exited = false;
  void exit.then(() => {
    exited = true;
    for (const w of waiters) w();
  });

  const waitFor = (predicate: (line: HostLine) => boolean, timeoutMs = 20_000) =>
    new Promise<HostLine>((resolve, reject) => {
      const check = () => {
        const found = lines.find(predicate);
        if (found) done(() => resolve(found));
        else if (exited) done(() => reject(new Error(`host exited; stderr:\n${output().stderr}\nstdout:\n${output().stdout}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting; output:\n${output().stdout}\n${output().stderr}`))), timeoutMs);
      const done = (f: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        f();
      };
      waiters.add(check);
      check();
    });

  // The host's own start, or with --flex the topology's (an instance's host.started carries its `instance`).
  const started = await waitFor((l) => (l.event === 'host.started' && l.instance === undefined) || l.event === 'flex.started', 60_000);
  return {
    url: started.url as string,
    lines,
    stderr: () => output().stderr,
    waitFor,
    stop: async (signal = 'SIGTERM') => {
      if (!exited) child.kill(signal);
      return exit;
    },
  };
}
