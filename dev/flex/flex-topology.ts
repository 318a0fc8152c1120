import type { IndexedFunction } from '../local-host/function-index.js';
import { parseTimerSchedule } from '../local-host/timer-schedule.js';
import type { CronSchedule } from '../local-host/ncrontab.js';
import { FlexInstance, type InstanceCommand } from './flex-instance.js';
import { FrontDoor } from './front-door.js';

type Level = 'info' | 'warn' | 'error';

/** The longest the scale controller waits before starting an instance of a group whose instances keep being lost. */
const MAX_RESTART_DELAY_MS = 30_000;

export interface FlexTopologyOptions {
  /** The app's functions as its host indexes them (`start-local --describe`). */
  readonly functions: readonly IndexedFunction[];
  /** How an instance of `group` is started (FUNCTIONS_TARGET_GROUP=group in its environment). */
  readonly instanceCommand: (group: string) => InstanceCommand;
  /** A queue's approximate message count (invisible messages included, as Azure counts them); 0 when it does not exist. */
  readonly queueDepth: (connection: string, queueName: string) => Promise<number>;
  readonly host?: string;
  readonly port: number;
  /** How many instances a busy queue group runs (the route function's partitions: several); default 1. */
  readonly instancesWhenBusy?: (group: string) => number;
  /** An instance with nothing to do for this long is stopped (scale to zero); default 60 s. */
  readonly idleMs?: number;
  /** How often the scale controller looks at the queues and the timers; default 1 s. */
  readonly pollMs?: number;
  /** How long before a timer is due its instance is started; default 5 s. */
  readonly timerLeadMs?: number;
  /** The topology's own lines (flex.*). */
  readonly log: (level: Level, event: string, fields: Record<string, unknown>) => void;
  /** Each line an instance writes, with its `instance` id added. */
  readonly forward: (line: string) => void;
  readonly stderr?: (text: string) => void;
}

export interface InstanceInfo {
  readonly group: string;
  readonly id: string;
  readonly pid: number | undefined;
  readonly url: string | undefined;
}

export interface FlexTopology {
  /** The app's public endpoint (the front end's). */
  readonly url: string;
  /** The groups and their functions. */
  readonly groups: ReadonlyMap<string, readonly IndexedFunction[]>;
  /** The instances running now. */
  instances(): InstanceInfo[];
  stop(): Promise<void>;
}

interface Group {
  readonly name: string;
  readonly kind: 'http' | 'queue' | 'timer' | 'other';
  readonly functions: IndexedFunction[];
  readonly instances: FlexInstance[];
  readonly schedules: CronSchedule[];
  /** When the group last had work (a message waiting, a request, a timer due). */
  lastBusy: number;
  /** The next time one of its timers is due. */
  dueAt?: Date | undefined;
  serial: number;
  /** Instances lost in a row (exited unasked), and when the scale controller may start the next one: it backs off. */
  losses: number;
  notBefore: number;
}

/**
 * Flex Consumption's topology on one machine: each function group in its own processes, started when work
 * arrives for it and stopped when idle, as the platform's scale controller does. HTTP functions share one group
 * behind a front door that waits for an instance when none runs; each queue function is a group woken by a
 * message on its queue (a busy one runs `instancesWhenBusy` instances); each timer function is a group woken
 * shortly before it is due. Every timer group is started once when the topology starts, as after a
 * deployment, so that a `runOnStartup` timer runs then (and again whenever its instance starts, as in Azure).
 */
export async function startFlexTopology(options: FlexTopologyOptions): Promise<FlexTopology> {
  const idleMs = options.idleMs ?? 60_000;
  const pollMs = options.pollMs ?? 1000;
  const leadMs = options.timerLeadMs ?? 5000;
  const busyCount = options.instancesWhenBusy ?? (() => 1);
  const groups = new Map<string, Group>();
  for (const fn of options.functions) {
    let group = groups.get(fn.group);
    if (!group) {
      const kind = fn.trigger === 'http' ? 'http' : fn.trigger === 'queue' ? 'queue' : fn.trigger === 'timer' ? 'timer' : 'other';
      group = { name: fn.group, kind, functions: [], instances: [], schedules: [], lastBusy: performance.now(), serial: 0, losses: 0, notBefore: 0 };
      groups.set(fn.group, group);
    }
    group.functions.push(fn);
    if (fn.schedule) group.schedules.push(parseTimerSchedule(fn.schedule));
  }
  for (const g of groups.values())
    if (g.kind === 'other') options.log('warn', 'flex.group_not_scaled', { group: g.name, note: 'only HTTP, queue and timer triggers are scaled by the local topology' });

  let stopping = false;
  const live = (g: Group) => g.instances.filter((i) => i.alive && !i.stopping);

  const startInstance = (g: Group, reason: string): FlexInstance => {
    const id = `${g.name}#${++g.serial}`;
    const instance = new FlexInstance({
      group: g.name,
      id,
      command: options.instanceCommand(g.name),
      onLine: (line) => options.forward(line),
      onStderr: (text) => options.stderr?.(`[${id}] ${text}`),
    });
    g.instances.push(instance);
    options.log('info', 'flex.instance_starting', { group: g.name, instance: id, pid: instance.pid, reason });
    instance.ready.then(
      (url) => {
        g.losses = 0;
        options.log('info', 'flex.instance_started', { group: g.name, instance: id, pid: instance.pid, url, startMs: Math.round(performance.now() - instance.startedAt) });
      },
      () => undefined,
    );
    void instance.exited.then(({ code, signal }) => {
      g.instances.splice(g.instances.indexOf(instance), 1);
      const expected = instance.stopping || stopping;
      // An instance that keeps failing (a storage 403 faults its host) is started again less and less often.
      if (!expected) g.notBefore = performance.now() + Math.min(MAX_RESTART_DELAY_MS, 1000 * 2 ** g.losses++);
      options.log(expected ? 'info' : 'warn', expected ? 'flex.instance_stopped' : 'flex.instance_lost', { group: g.name, instance: id, pid: instance.pid, code, signal });
    });
    return instance;
  };

  const http = groups.get('http');
  const frontDoor = new FrontDoor({
    host: options.host ?? '127.0.0.1',
    port: options.port,
    log: options.log,
    instance: async () => {
      if (!http) throw new Error('the app has no HTTP function');
      http.lastBusy = performance.now();
      const running = live(http);
      const ready = running.filter((i) => i.url !== undefined).sort((a, b) => a.inFlight - b.inFlight)[0];
      if (ready) return ready;
      // None ready: wait for the one starting, or start one (scale from zero), as the front end holds the request.
      const waited = performance.now();
      const instance = running[0] ?? startInstance(http, 'request');
      await instance.ready;
      options.log('info', 'flex.request_waited_for_instance', { group: 'http', instance: instance.id, waitedMs: Math.round(performance.now() - waited) });
      return instance;
    },
  });
  const url = await frontDoor.listen();

  const nextDue = (g: Group, after: Date) =>
    g.schedules
      .map((s) => s.next(after))
      .filter((d): d is Date => d !== undefined)
      .sort((a, b) => a.getTime() - b.getTime())[0];

  // After a deployment every timer group starts once (its runOnStartup timers run, missed occurrences are caught up).
  for (const g of groups.values()) {
    if (g.kind !== 'timer') continue;
    g.dueAt = nextDue(g, new Date());
    startInstance(g, 'deployment');
  }

  const unreadable = new Set<string>();
  /** Every queue group's depth, read side by side; a group whose queue cannot be read counts as busy. */
  const readDepths = async (): Promise<Map<string, number>> => {
    const queueGroups = [...groups.values()].filter((g) => g.kind === 'queue');
    const read = await Promise.allSettled(
      queueGroups.map(async (g) => (await Promise.all(g.functions.map((f) => options.queueDepth(f.connection ?? 'AzureWebJobsStorage', f.queueName ?? '')))).reduce((a, b) => a + b, 0)),
    );
    return new Map(
      queueGroups.map((g, i) => {
        const r = read[i]!;
        if (r.status === 'fulfilled') {
          unreadable.delete(g.name);
          return [g.name, r.value];
        }
        // Unable to look: keep (or start) an instance rather than leave messages unread; said once per outage.
        if (!unreadable.has(g.name)) options.log('warn', 'flex.queue_depth_unreadable', { group: g.name, error: (r.reason as Error).message.split('\n')[0] });
        unreadable.add(g.name);
        return [g.name, 1];
      }),
    );
  };
  const scaleOnce = async () => {
    const depths = await readDepths();
    for (const g of groups.values()) {
      if (stopping) return;
      const now = performance.now();
      if (g.kind === 'queue') {
        const depth = depths.get(g.name) ?? 0;
        if (depth > 0) {
          g.lastBusy = now;
          const want = busyCount(g.name);
          if (now >= g.notBefore) for (let n = live(g).length; n < want; n++) startInstance(g, 'queue');
          continue;
        }
      } else if (g.kind === 'timer' && g.dueAt) {
        if (g.dueAt.getTime() - leadMs <= Date.now()) {
          g.lastBusy = now;
          // The occurrence is passed on only once an instance runs for it (a group in backoff gets it late, past due).
          if (live(g).length === 0 && now >= g.notBefore) startInstance(g, 'timer');
          if (live(g).length > 0) g.dueAt = nextDue(g, g.dueAt);
          continue;
        }
        // An instance stays while its next run is nearer than the idle time.
        if (g.dueAt.getTime() - Date.now() < idleMs) g.lastBusy = now;
      }
      if (g.kind === 'other') continue;
      for (const instance of live(g)) {
        const quiet = now - Math.max(g.lastBusy, instance.lastActivity);
        if (instance.url !== undefined && instance.inFlight === 0 && quiet >= idleMs) {
          options.log('info', 'flex.instance_idle', { group: g.name, instance: instance.id, idleMs: Math.round(quiet) });
          void instance.stop();
        }
      }
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();
  const loop = () => {
    pass = scaleOnce().finally(() => {
      if (!stopping) timer = setTimeout(loop, pollMs);
    });
  };
  loop();

  options.log('info', 'flex.started', {
    url,
    groups: [...groups.values()].map((g) => ({ group: g.name, kind: g.kind, functions: g.functions.map((f) => f.name), instancesWhenBusy: g.kind === 'queue' ? busyCount(g.name) : 1 })),
    idleMs,
  });

  return {
    url,
    groups: new Map([...groups].map(([name, g]) => [name, g.functions])),
    instances: () => [...groups.values()].flatMap((g) => g.instances.filter((i) => i.alive).map((i) => ({ group: g.name, id: i.id, pid: i.pid, url: i.url }))),
    stop: async () => {
      stopping = true;
      clearTimeout(timer);
      await pass;
      await frontDoor.close();
      await Promise.all([...groups.values()].flatMap((g) => g.instances.map((i) => i.stop())));
    },
  };
}
