import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ChaosStepError } from './chaos-error.js';
import { isRouteGroup } from '../flex/flex-stack.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const START_LOCAL = fileURLToPath(new URL('../start-local.js', import.meta.url));
const SIMULATOR = fileURLToPath(new URL('./simulator-process.js', import.meta.url));

export type HostLine = Record<string, unknown> & { event?: string };

/** A child process's JSON lines, with waiters; only the last few are kept (a long run logs a lot). */
class LineWatch {
  readonly recent: string[] = [];
  readonly #waiters = new Set<(line: HostLine | null) => void>();

  attach(child: ChildProcess, onLine?: (line: HostLine) => void): void {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      this.recent.push(text);
      if (this.recent.length > 200) this.recent.shift();
      let line: HostLine;
      try {
        line = JSON.parse(text) as HostLine;
      } catch {
        line = { event: 'text', text };
      }
      onLine?.(line);
      for (const w of this.#waiters) w(line);
    });
    child.once('exit', () => {
      for (const w of this.#waiters) w(null);
    });
  }

  next(predicate: (line: HostLine) => boolean, timeoutMs: number, what: string): Promise<HostLine> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new ChaosStepError(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      const waiter = (line: HostLine | null) => {
        if (line === null) done(new ChaosStepError(`the process exited while waiting for ${what}:\n${this.recent.slice(-20).join('\n')}`));
        else if (predicate(line)) done(line);
      };
      const done = (result: HostLine | Error) => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      this.#waiters.add(waiter);
    });
  }
}

/** The simulator in its own process (dev/chaos/simulator-process.ts). */
export interface SimulatorProcess {
  readonly baseUrl: string;
  readonly jwksUrl: string;
  readonly controlUrl: string;
  readonly driverUrl: string;
  readonly tenantId: string;
  readonly appId: string;
  stop(): Promise<void>;
}

export async function startSimulatorProcess(env: Record<string, string> = {}): Promise<SimulatorProcess> {
  const child = spawn(process.execPath, [SIMULATOR], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const watch = new LineWatch();
  const first = watch.next((l) => typeof l.baseUrl === 'string', 30_000, 'the simulator to start');
  watch.attach(child);
  const info = (await first) as unknown as Omit<SimulatorProcess, 'stop' | 'driverUrl'>;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    ...info,
    driverUrl: `${info.baseUrl}/_simulator`,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * How the host process starts: a Development host (`npm start`'s entry point without the simulator) with
 * these settings over the harness's environment; or one Azure site (`start-local --site`) from its AzureSite
 * JSON with exactly `env` as its environment, as a site has none of the operator's.
 */
export type HostLaunch =
  { readonly mode: 'development'; readonly settings: Readonly<Record<string, string>> } | { readonly mode: 'site'; readonly siteFile: string; readonly env: Readonly<Record<string, string>> };

/** Which of a Flex topology's instances a fault kills: one route instance (mid-batch), the HTTP one, or a timer's. */
export type InstanceTarget = 'route' | 'http' | 'timer';

/** The run's Flex topology: its route instances per partition and the idle time before an instance stops. */
export interface TopologyOptions {
  readonly routeInstances: number;
  readonly idleSeconds: number;
}

/**
 * The app under the local Functions host as a child process on a fixed port, so Graph's notification URL
 * stays the same across restarts. With `topology`, on Flex's (start-local --flex): the process is the
 * topology, each function group's instances its children, in a process group of their own so that a kill of
 * the stack takes every instance with it.
 */
export class HostProcess {
  readonly #launch: HostLaunch;
  readonly #topology: TopologyOptions | undefined;
  /** The topology's live instances (from its lines), and which groups are timers. */
  readonly #instances = new Map<string, { group: string; pid: number }>();
  #timerGroups = new Set<string>();
  /** Instances killed by a fault. */
  instanceKills = 0;
  readonly #port: number;
  readonly #onLine: (line: HostLine) => void;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #watch = new LineWatch();
  /** When the current process started (ms), and how many times one was started. */
  startedAt = 0;
  starts = 0;

  readonly #log: WriteStream;

  /** `logFile` gets every line of every host process of the run. */
  constructor(launch: HostLaunch, port: number, logFile: string, onLine: (line: HostLine) => void, topology?: TopologyOptions) {
    this.#launch = launch;
    this.#port = port;
    this.#topology = topology;
    this.#onLine = (line) => {
      this.#track(line);
      onLine(line);
    };
    this.#log = createWriteStream(logFile, { flags: 'a' });
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get recent(): readonly string[] {
    return this.#watch.recent;
  }

  async start(): Promise<void> {
    const launch = this.#launch;
    const port = String(this.#port);
    const [args, env] =
      launch.mode === 'site'
        ? [['--site', launch.siteFile, '--port', port, '--app', REPO_ROOT], launch.env]
        : [['--app', REPO_ROOT, '--port', port, '--simulator-port', '0'], { ...process.env, ...launch.settings, LOCAL_GRAPH_SIMULATOR: 'false' }];
    const topology = this.#topology;
    if (topology) args.push('--flex', '--route-instances', String(topology.routeInstances), '--idle-seconds', String(topology.idleSeconds));
    this.#instances.clear();
    const child = spawn(process.execPath, [START_LOCAL, ...args], { env, cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: topology !== undefined });
    child.stdout?.pipe(this.#log, { end: false });
    child.stderr?.pipe(this.#log, { end: false });
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.#watch = new LineWatch();
    const started = this.#watch.next((l) => (l.event === 'host.started' && l.instance === undefined) || l.event === 'flex.started', 120_000, 'host.started');
    this.#watch.attach(child, this.#onLine);
    this.startedAt = Date.now();
    this.starts++;
    await started;
  }

  /** Waits for a line of the current process. */
  waitFor(predicate: (line: HostLine) => boolean, timeoutMs: number, what: string): Promise<HostLine> {
    return this.#watch.next(predicate, timeoutMs, what);
  }

  /** SIGKILL, as a crash or a scale-in would: nothing in flight finishes (on a topology: every instance at once). */
  async kill(): Promise<void> {
    const child = this.#child;
    if (this.running && child?.pid !== undefined) {
      if (this.#topology) process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    }
    await this.#exited;
  }

  /**
   * SIGKILLs one instance of the topology, as the platform losing it would: a route instance right after one of
   * its invocations ended (the rest of its batch in flight), the HTTP instance, or a timer's. Waits up to a
   * minute for one to run; false when none did (or no topology runs).
   */
  async killInstance(target: InstanceTarget): Promise<boolean> {
    if (!this.#topology) return false;
    const isTarget = (group: string | undefined = '') => (target === 'route' ? isRouteGroup(group) : target === 'http' ? group === 'http' : this.#timerGroups.has(group));
    let id: string | undefined;
    if (target === 'route') {
      const line = await this.waitFor((l) => l.event === 'invocation' && typeof l.instance === 'string' && isTarget(String(l.instance).split('#')[0]), 60_000, 'a route invocation').catch(
        () => undefined,
      );
      id = line ? String(line.instance) : undefined;
    } else {
      const live = () => [...this.#instances].find(([, i]) => isTarget(i.group))?.[0];
      id = live() ?? (await this.waitFor((l) => l.event === 'flex.instance_started' && isTarget(String(l.group)), 60_000, `an instance (${target})`).catch(() => undefined))?.instance?.toString();
    }
    const instance = id ? this.#instances.get(id) : undefined;
    if (!id || !instance) return false;
    try {
      process.kill(instance.pid, 'SIGKILL');
    } catch {
      return false;
    }
    this.instanceKills++;
    return true;
  }

  /**
   * Settles once the app can decrypt: at once for one host process (started), on a topology when a route
   * instance has started (the first message brings one), or after a minute. A fault that makes the
   * certificates unreadable "from a host restart on" counts its time from then.
   */
  async decrypting(): Promise<void> {
    if (!this.#topology || [...this.#instances.values()].some((i) => isRouteGroup(i.group))) return;
    await this.waitFor((l) => l.event === 'flex.instance_started' && isRouteGroup(String(l.group)), 60_000, 'a route instance').catch(() => undefined);
  }

  #track(line: HostLine): void {
    if (line.event === 'flex.started' && Array.isArray(line.groups)) {
      this.#timerGroups = new Set((line.groups as { group: string; kind: string }[]).filter((g) => g.kind === 'timer').map((g) => g.group));
    } else if (line.event === 'flex.instance_started' && typeof line.pid === 'number') {
      this.#instances.set(String(line.instance), { group: String(line.group), pid: line.pid });
    } else if (line.event === 'flex.instance_stopped' || line.event === 'flex.instance_lost') {
      this.#instances.delete(String(line.instance));
    }
  }

  async stop(): Promise<void> {
    if (this.running) this.#child?.kill('SIGTERM');
    await this.#exited;
  }
}
