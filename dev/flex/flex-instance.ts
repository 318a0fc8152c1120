import { spawn, type ChildProcess } from 'node:child_process';

/** How one instance of a group is started: the node arguments and the environment (FUNCTIONS_TARGET_GROUP set by the caller). */
export interface InstanceCommand {
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export interface FlexInstanceOptions {
  readonly group: string;
  readonly id: string;
  readonly command: InstanceCommand;
  /** Each line the instance writes on stdout, with `instance` added when it is a JSON object. */
  readonly onLine: (line: string, parsed: Record<string, unknown> | undefined) => void;
  readonly onStderr: (text: string) => void;
  /** An instance not started within this long is killed (and counted lost); default 60 s. */
  readonly startTimeoutMs?: number;
}

/**
 * One Flex instance: a local host process running one function group. Ready once it logs `host.started` (its
 * URL then known); gone when its process exits, for whatever reason (stopped when idle, killed, crashed).
 */
export class FlexInstance {
  readonly group: string;
  readonly id: string;
  readonly child: ChildProcess;
  readonly startedAt = performance.now();
  /** Settles with the URL the instance serves on once started; rejects when it exits before that. */
  readonly ready: Promise<string>;
  /** Settles when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  url: string | undefined;
  /** Work in flight: HTTP requests proxied to it (counted by the front door) and timer runs (from its log). */
  inFlight = 0;
  lastActivity = performance.now();
  #stopping = false;

  constructor(options: FlexInstanceOptions) {
    this.group = options.group;
    this.id = options.id;
    this.child = spawn(process.execPath, [...options.command.args], { env: options.command.env, cwd: options.command.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    // Its stdin stays open while the topology lives: an instance whose topology died (killed) sees it close and ends.
    this.child.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.ready = new Promise<string>((resolve, reject) => {
      let buffer = '';
      this.child.stdout?.on('data', (d: Buffer) => {
        buffer += d.toString();
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const text = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          let parsed: Record<string, unknown> | undefined;
          try {
            const value = JSON.parse(text) as unknown;
            if (value && typeof value === 'object' && !Array.isArray(value)) parsed = value as Record<string, unknown>;
          } catch {
            // a line that is not JSON is passed on as it is
          }
          if (parsed?.event === 'host.started' && typeof parsed.url === 'string') {
            this.url = parsed.url;
            // Idle is counted from when it could first work, not from its spawn.
            this.lastActivity = performance.now();
            resolve(parsed.url);
          }
          // A timer's run is counted from its start to its end (host lines, written whatever the log levels):
          // an instance is not idle while one runs.
          if (parsed?.event === 'timer.executing') this.inFlight++;
          if (parsed?.event === 'timer.executed') this.inFlight = Math.max(0, this.inFlight - 1);
          if (parsed?.event === 'invocation' || parsed?.event === 'timer.executed') this.lastActivity = performance.now();
          options.onLine(parsed ? JSON.stringify({ ...parsed, instance: this.id }) : text, parsed);
        }
      });
      this.child.stderr?.on('data', (d: Buffer) => options.onStderr(d.toString()));
      void this.exited.then(({ code, signal }) => reject(new Error(`instance ${this.id} exited (${signal ?? `code ${code}`}) before it started`)));
    });
    // A rejection nobody awaits (an instance killed while starting) is not an unhandled one.
    this.ready.catch(() => undefined);
    // One that hangs at start is lost, as the platform gives up on an instance that never reports ready.
    const limit = options.startTimeoutMs ?? 60_000;
    const deadline = setTimeout(() => {
      options.onStderr(`[${this.id}] not started after ${limit} ms: killed\n`);
      this.child.kill('SIGKILL');
    }, limit);
    void this.ready.then(
      () => clearTimeout(deadline),
      () => clearTimeout(deadline),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** As the platform stops an instance it scales in: SIGTERM (the host stops its listeners, runs appTerminate hooks), then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopping = true;
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** An instance lost at once (a crash, the platform reclaiming it): SIGKILL. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }
}
