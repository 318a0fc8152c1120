import { mkdtempSync, rmSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { GapLog } from '../../shared/backfill/gap-log.js';
import { recordedWindows } from '../../shared/backfill/recorded-windows.js';
import { decryptResourceData, type EncryptedResourceData } from '../../shared/certificates/decrypt-resource-data.js';
import { LocalCertificateStore } from '../../shared/certificates/local-certificate-store.js';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import { isClaimCheck, isQueueMessageBody, unpackQueued, type QueueMessageBody } from '../../shared/queue/queued-notification.js';
import { readDeadLetter } from '../../shared/route/dead-letter.js';
import { ChaosStepError } from './chaos-error.js';
import { SubscriptionRecords } from '../../shared/subscriptions/subscription-records.js';
import { freePort, startAzurite, type AzuriteProcess, type AzuritePorts } from '../azurite/azurite-process.js';
import type { RecordedChange } from '../graph-simulator/change-log.js';
import type { DeliveryAttempt } from '../graph-simulator/delivery.js';
import { compareLedger, type FoundEvent, type LedgerResult } from './ledger.js';
import { startNotificationProxy } from './notification-proxy.js';
import { planChaos, type ActivityOp, type ChaosPlan, type Fault, type FaultKind } from './plan.js';
import { HostProcess, startSimulatorProcess, type HostLine, type SimulatorProcess } from './processes.js';

export interface ChaosOptions {
  readonly seconds: number;
  readonly seed: number;
  /** Activity operations per second. */
  readonly rate?: number;
  readonly faultKinds?: readonly FaultKind[];
  /** Longest wait for the app to catch up after the activity, in seconds. */
  readonly quietCapSeconds?: number;
  /** Harness-only: every n-th notification batch is acknowledged without reaching the app (the ledger test). */
  readonly plantLossEvery?: number;
  /** Progress lines (human). */
  readonly log?: (line: string) => void;
  /** Start no fault after the activity ended (a long run on a loaded machine); default: every planned fault runs. */
  readonly skipLateFaults?: boolean;
  /** Keep the run's folder (Azurite data, certificates, host log tail) instead of deleting it. */
  readonly keep?: boolean;
}

export interface ChaosReport extends Omit<LedgerResult, 'lostSamples'> {
  readonly seed: number;
  readonly seconds: number;
  readonly faults: Partial<Record<FaultKind, number>>;
  readonly faultsSkipped: number;
  readonly converged: boolean;
  readonly quietSeconds: number;
  readonly wallSeconds: number;
  readonly hostStarts: number;
  readonly gaps: number;
  readonly plantedLosses?: number;
  readonly lostSamples: readonly { resource: string; changeType: string; version: string | null; at: string }[];
  readonly workDir?: string;
}

const LIFETIME_MINUTES = 45;
/**
 * Graph's retry delays × this (Graph's real four hours of retries shrink to about five minutes). Graph then
 * keeps retrying a failing endpoint for about two and a half minutes before it gives up
 * (graphGivesUpAfterMs): longer than any outage a fault causes on this machine (an Azurite restart can take
 * half a minute under load), as Graph's real four hours are, except a long host downtime, which the app
 * must then notice (its heartbeat is written every minute, so a downtime counts from 70 s).
 */
const GRAPH_TIME_SCALE = 0.02;
const DOWNTIME_THRESHOLD_SECONDS = 70;
const GRAPH_GIVES_UP_AFTER_MS = graphGivesUpAfterMs(GRAPH_TIME_SCALE);

/** When Graph (dev/graph-simulator/delivery.ts) makes its last attempt: retries after 1, 2, 4… minutes × scale, none past 4 hours × scale. */
export function graphGivesUpAfterMs(scale: number): number {
  let at = 0;
  for (let delay = 60_000 * scale; at + delay <= 4 * 3600_000 * scale; delay *= 2) at += delay;
  return at;
}
const DESIRED = [
  { name: 'chats', resource: '/chats', changeTypes: ['created', 'updated'], includeResourceData: true, lifetimeMinutes: LIFETIME_MINUTES },
  { name: 'members', resource: '/chats/getAllMembers?model=A', changeTypes: ['created', 'deleted'], includeResourceData: true, lifetimeMinutes: LIFETIME_MINUTES },
  { name: 'chat-messages', resource: '/chats/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true, lifetimeMinutes: LIFETIME_MINUTES },
  { name: 'channel-messages', resource: '/teams/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true, lifetimeMinutes: LIFETIME_MINUTES },
];
/** The simulator's change kinds each desired subscription carries. */
const KINDS_OF: Record<string, string[]> = { chats: ['chat'], members: ['member'], 'chat-messages': ['chatMessage'], 'channel-messages': ['channelMessage'] };
const EVENT_QUEUES = ['teams-chats', 'teams-chat-members', 'teams-chat-messages', 'teams-channel-messages'];
const DEAD_LETTER_QUEUES = ['graph-notifications-deadletter', 'graph-notifications-poison', 'graph-lifecycle-poison'];
const WORK_QUEUES = ['graph-notifications', 'graph-lifecycle', 'graph-backfill', 'graph-notifications-poison', 'graph-lifecycle-poison', 'graph-backfill-poison'];
const BACKFILL_MARGIN_MINUTES = 40;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** The simulator's driver API. */
class Driver {
  constructor(readonly url: string) {}
  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    if (res.status >= 300) throw new ChaosStepError(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }
}

/**
 * One chaos run: the simulator, Azurite and the app under the local host as separate processes; the seeded
 * activity and faults; a quiet period until the app has caught up; the ledger.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => {});
  const started = Date.now();
  const plan = planChaos({
    seed: o.seed,
    seconds: o.seconds,
    rate: o.rate ?? 4,
    subscriptions: DESIRED.length,
    lifetimeMinutes: LIFETIME_MINUTES,
    longDowntimeMs: GRAPH_GIVES_UP_AFTER_MS + 20_000,
    ...(o.faultKinds ? { faultKinds: o.faultKinds } : {}),
  });
  const work = mkdtempSync(join(tmpdir(), 'tcr-chaos-'));
  const certDir = join(work, 'certificates');
  const azuriteDir = join(work, 'azurite');
  const desiredFile = join(work, 'subscriptions.json');
  writeFileSync(desiredFile, JSON.stringify({ subscriptions: DESIRED }, null, 2));

  const stoppers: (() => Promise<unknown>)[] = [];
  let keepDir = o.keep === true;
  const ports: AzuritePorts = { blob: await freePort(), queue: await freePort(), table: await freePort() };
  let azurite: AzuriteProcess | undefined = await startAzurite({ location: azuriteDir, ports });
  stoppers.push(async () => azurite?.stop());
  const connectionString = azurite.connectionString;
  try {
    const sim: SimulatorProcess = await startSimulatorProcess({ CHAOS_GRAPH_TIME_SCALE: String(GRAPH_TIME_SCALE) });
    stoppers.push(() => sim.stop());
    const driver = new Driver(sim.driverUrl);
    const hostPort = await freePort();
    const proxy = await startNotificationProxy(hostPort, o.plantLossEvery ? { loseEvery: o.plantLossEvery } : {});
    stoppers.push(() => proxy.close());

    let lastDetectGapsMs = 0;
    const host = new HostProcess(
      {
        AzureWebJobsStorage: connectionString,
        SUBSCRIPTIONS_FILE: desiredFile,
        LOCAL_CERTIFICATE_DIR: certDir,
        GRAPH_BASE_URL: sim.baseUrl,
        GRAPH_JWKS_URL: sim.jwksUrl,
        GRAPH_AUTH_MODE: 'simulator',
        GRAPH_APP_ID: sim.appId,
        GRAPH_TENANT_IDS: sim.tenantId,
        GRAPH_NOTIFICATION_URL: `${proxy.url}/api/notifications`,
        GRAPH_LIFECYCLE_URL: `${proxy.url}/api/lifecycle`,
        BACKFILL_AFTER_DOWNTIME_SECONDS: String(DOWNTIME_THRESHOLD_SECONDS),
        // Covers the simulated clock's lead after a clock advance (docs/reliability.md).
        BACKFILL_MARGIN_MINUTES: String(BACKFILL_MARGIN_MINUTES),
        RENEW_WITHIN_MINUTES: '20',
        RECONCILE_SCHEDULE: '*/20 * * * * *',
        // A killed host's messages come back after 20 s instead of Azure's 10 minutes (time compressed like Graph's retries).
        LOCAL_HOST_QUEUE_LEASE_SECONDS: '20',
        'AzureWebJobs.reconcileSubscriptions.Disabled': 'false',
      },
      hostPort,
      join(work, 'host.log'),
      (line: HostLine) => {
        if (line.event === 'invocation' && line.function === 'detectGaps' && line.status === 'succeeded') lastDetectGapsMs = Date.now();
      },
    );
    stoppers.unshift(() => host.stop());
    await host.start();
    log(`host on 127.0.0.1:${hostPort}, simulator ${sim.baseUrl}, Azurite queue port ${ports.queue}, folder ${work}`);
    await waitUntil(async () => (await activeSubscriptions(driver)).length >= DESIRED.length, 120_000, 'the desired subscriptions to exist');

    const ids = await setUp(driver, plan);
    const t0 = Date.now();
    log(`seed ${plan.seed}: ${plan.activity.length} activity operations and ${plan.faults.length} faults over ${plan.seconds} s`);

    const faults: Partial<Record<FaultKind, number>> = {};
    let faultsSkipped = 0;
    const env: FaultEnv = {
      driver,
      host,
      log,
      certDir,
      hostBack: Promise.resolve(),
      activityGate: Promise.resolve(),
      deliveriesIdle: async () => (await control(sim)).deliveriesIdle,
      restartAzurite: async (downMs: number) => {
        await azurite?.stop();
        azurite = undefined;
        await sleep(downMs);
        azurite = await startAzurite({ location: azuriteDir, ports });
      },
    };
    const activity = (async () => {
      for (const op of plan.activity) {
        await sleep(t0 + op.at - Date.now());
        await env.activityGate;
        await perform(driver, ids, op);
        // Two changes of one resource never share a millisecond (the version is a timestamp).
        await sleep(2);
      }
    })();
    const chaos = (async () => {
      for (const fault of plan.faults) {
        // Faults run one after the other and may fall behind their times on a loaded machine. By default
        // every planned fault runs (the same seed, the same faults); `skipLateFaults` bounds a long run's
        // wall time instead: none starts after the activity ended (those are counted as skipped).
        if (o.skipLateFaults && Date.now() - t0 > plan.seconds * 1000) {
          faultsSkipped++;
          continue;
        }
        await sleep(t0 + fault.at - Date.now());
        const done = await inject(env, fault);
        if (done) faults[fault.kind] = (faults[fault.kind] ?? 0) + 1;
        else faultsSkipped++;
        log(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${fault.kind}${done ? '' : ' (skipped)'} ${JSON.stringify(fault)}`);
      }
    })();
    await Promise.all([activity, chaos]);
    await env.hostBack;
    log(`activity done after ${((Date.now() - t0) / 1000).toFixed(1)} s; waiting for the app to catch up`);

    // Quiet period: everything restored, then wait until the app has caught up (or the cap).
    if (!azurite) azurite = await startAzurite({ location: azuriteDir, ports });
    if (!host.running) await host.start();
    await driver.call('PATCH', '/delivery', { requestTimeoutMs: 10_000, duplicateRate: 0 });
    const quietStart = Date.now();
    const storage = storageOf(connectionString);
    const converged = await waitForQuiet({ driver, sim, storage, host, lastDetectGaps: () => lastDetectGapsMs, capMs: (o.quietCapSeconds ?? 600) * 1000, log });
    const quietSeconds = (Date.now() - quietStart) / 1000;
    await host.stop();

    const { changes } = await control(sim);
    const events = await readEvents(storage.queues);
    const dead = await readDeadLetters(storage.queues, storage.blobs, certDir);
    const gaps = await new GapLog(storage.backfillTable).list();
    const ledger = compareLedger({
      changes,
      events,
      deadLettered: dead,
      // A change whose notification Graph was still retrying when a gap began may be given up inside it.
      gaps: gaps.map((g) => ({ kinds: KINDS_OF[g.name] ?? [], fromMs: Date.parse(g.from) - GRAPH_GIVES_UP_AFTER_MS, toMs: Date.parse(g.to) + 5000 })),
    });
    // With --keep always, so that anyone can recount the run (changes.json beside the Azurite data).
    if (ledger.lost > 0 || !converged || o.keep === true) {
      writeFileSync(join(work, 'host-tail.log'), host.recent.join('\n'));
      writeFileSync(join(work, 'changes.json'), JSON.stringify(changes));
      writeFileSync(join(work, 'events.json'), JSON.stringify(events));
      writeFileSync(join(work, 'gaps.json'), JSON.stringify(gaps));
      writeFileSync(join(work, 'deliveries.json'), JSON.stringify(await deliveryLog(driver)));
    }
    keepDir ||= ledger.lost > 0 || !converged;
    return {
      changes: ledger.changes,
      delivered: ledger.delivered,
      superseded: ledger.superseded,
      supersededByKind: ledger.supersededByKind,
      deadLettered: ledger.deadLettered,
      lost: ledger.lost,
      duplicates: ledger.duplicates,
      excluded: ledger.excluded,
      unmatchedEvents: ledger.unmatchedEvents,
      seed: plan.seed,
      seconds: plan.seconds,
      faults,
      faultsSkipped,
      converged,
      quietSeconds: Math.round(quietSeconds),
      wallSeconds: Math.round((Date.now() - started) / 1000),
      hostStarts: host.starts,
      gaps: gaps.length,
      ...(o.plantLossEvery ? { plantedLosses: proxy.swallowed } : {}),
      lostSamples: ledger.lostSamples.map((c) => ({ resource: c.resource, changeType: c.changeType, version: c.version, at: c.at })),
      ...(keepDir ? { workDir: work } : {}),
    };
  } finally {
    for (const stop of stoppers) await stop().catch(() => {});
    // Kept only when asked or when something needs looking at (workDir in the report).
    if (!keepDir) rmSync(work, { recursive: true, force: true });
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new ChaosStepError(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

async function activeSubscriptions(driver: Driver): Promise<{ id: string; resource: string }[]> {
  return (await driver.call<{ value: { id: string; resource: string }[] }>('GET', '/subscriptions')).value;
}

interface Ids {
  readonly users: string[];
  readonly channels: { team: string; channel: string }[];
  readonly chats: string[];
  readonly chatMessages: string[];
  readonly channelMessages: string[];
}

async function setUp(driver: Driver, plan: ChaosPlan): Promise<Ids> {
  const users: string[] = [];
  for (let i = 0; i < plan.users; i++) users.push((await driver.call<{ id: string }>('POST', '/users', { displayName: `Chaos User ${i}` })).id);
  const channels: { team: string; channel: string }[] = [];
  for (let t = 0; channels.length < plan.channels; t++) {
    const team = await driver.call<{ id: string; channels: { id: string }[] }>('POST', '/teams', { displayName: `Chaos team ${t}`, channels: ['General', 'Random'] });
    for (const c of team.channels) if (channels.length < plan.channels) channels.push({ team: team.id, channel: c.id });
  }
  return { users, channels, chats: [], chatMessages: [], channelMessages: [] };
}

async function perform(driver: Driver, ids: Ids, op: ActivityOp): Promise<void> {
  const enc = encodeURIComponent;
  const chat = 'chat' in op ? enc(ids.chats[op.chat] ?? '') : '';
  const channelPath = 'channel' in op ? `/teams/${ids.channels[op.channel]!.team}/channels/${enc(ids.channels[op.channel]!.channel)}/messages` : '';
  switch (op.op) {
    case 'createChat':
      ids.chats[op.chat] = (await driver.call<{ id: string }>('POST', '/chats', { members: op.members.map((u) => ids.users[u]), topic: op.topic, chatType: 'group' })).id;
      return;
    case 'renameChat':
      await driver.call('PATCH', `/chats/${chat}`, { topic: op.topic });
      return;
    case 'addMember':
      await driver.call('POST', `/chats/${chat}/members`, { userId: ids.users[op.user] });
      return;
    case 'removeMember':
      await driver.call('DELETE', `/chats/${chat}/members/${ids.users[op.user]}`);
      return;
    case 'hideChat':
      await driver.call('POST', `/chats/${chat}/hide`, { userId: ids.users[op.user] });
      return;
    case 'postChatMessage':
      ids.chatMessages[op.message] = (await driver.call<{ id: string }>('POST', `/chats/${chat}/messages`, { from: ids.users[op.from], content: op.content })).id;
      return;
    case 'editChatMessage':
      await driver.call('PATCH', `/chats/${chat}/messages/${ids.chatMessages[op.message]}`, { content: op.content });
      return;
    case 'deleteChatMessage':
      await driver.call('DELETE', `/chats/${chat}/messages/${ids.chatMessages[op.message]}`);
      return;
    case 'postChannelMessage':
      ids.channelMessages[op.message] = (
        await driver.call<{ id: string }>('POST', channelPath, { from: ids.users[op.from], content: op.content, ...(op.replyTo !== undefined ? { replyToId: ids.channelMessages[op.replyTo] } : {}) })
      ).id;
      return;
    case 'editChannelMessage':
      await driver.call('PATCH', `${channelPath}/${ids.channelMessages[op.message]}`, { content: op.content });
      return;
    case 'deleteChannelMessage':
      await driver.call('DELETE', `${channelPath}/${ids.channelMessages[op.message]}`);
      return;
  }
}

interface FaultEnv {
  /** Settles when the host is back from a long downtime that runs in the background. */
  hostBack: Promise<void>;
  /** The activity waits for this before each operation. */
  activityGate: Promise<void>;
  deliveriesIdle(): Promise<boolean>;
  readonly driver: Driver;
  readonly host: HostProcess;
  readonly certDir: string;
  readonly log: (line: string) => void;
  restartAzurite(downMs: number): Promise<void>;
}

/** Injects one fault and undoes it; false when it could not apply (e.g. the subscription to remove was already gone). */
async function inject(env: FaultEnv, fault: Fault): Promise<boolean> {
  const { driver, host } = env;
  if (fault.kind === 'hostKill' || fault.kind === 'hostKillMidBackfill' || fault.kind === 'certUnreadable') await env.hostBack;
  switch (fault.kind) {
    case 'hostKill':
      await host.kill();
      if (fault.downMs > 10_000) env.hostBack = sleep(fault.downMs).then(() => host.start());
      else {
        await sleep(fault.downMs);
        await host.start();
      }
      return true;
    case 'hostKillMidBackfill': {
      const wanted = DESIRED[fault.subscription]!.resource;
      const s = (await activeSubscriptions(driver)).find((x) => x.resource === wanted);
      if (!s) return false;
      // The recreation's window becomes a gap at the app's next heartbeat (each minute).
      const opened = host.waitFor((l) => l.event === 'backfill.gap_opened', 150_000, 'backfill.gap_opened');
      await driver.call('POST', `/subscriptions/${s.id}/lifecycle`, { lifecycleEvent: 'subscriptionRemoved' });
      if (
        !(await opened.then(
          () => true,
          () => false,
        ))
      )
        return false;
      await sleep(fault.afterGapMs);
      await host.kill();
      await sleep(500);
      await host.start();
      return true;
    }
    case 'azuriteRestart':
      await env.restartAzurite(fault.downMs);
      return true;
    case 'subscriptionsThrottle':
      await driver.call('POST', '/faults', { count: fault.count, status: fault.status, retryAfterSeconds: fault.retryAfterSeconds });
      return true;
    case 'slowEndpoint':
      await driver.call('PATCH', '/delivery', { requestTimeoutMs: fault.requestTimeoutMs });
      await sleep(fault.forMs);
      await driver.call('PATCH', '/delivery', { requestTimeoutMs: 10_000 });
      return true;
    case 'duplicateDelivery':
      await driver.call('PATCH', '/delivery', { duplicateRate: fault.rate });
      await sleep(fault.forMs);
      await driver.call('PATCH', '/delivery', { duplicateRate: 0 });
      return true;
    case 'certUnreadable': {
      // A file where the folder was: every read fails (not "missing"), as an unreadable mount or a denied permission would.
      const away = `${env.certDir}.away`;
      renameSync(env.certDir, away);
      writeFileSync(env.certDir, 'not a folder');
      try {
        await host.kill();
        await host.start();
        await sleep(fault.forMs);
      } finally {
        rmSync(env.certDir, { force: true });
        renameSync(away, env.certDir);
      }
      return true;
    }
    case 'clockAdvance': {
      // Graph measures its retry window on the simulated clock: a jump while a delivery waits for a retry
      // would count as half an hour of failed retries and drop it. Jump when nothing is pending.
      let open = () => {};
      env.activityGate = new Promise<void>((resolve) => (open = resolve));
      try {
        await waitUntil(() => env.deliveriesIdle(), 300_000, 'Graph to have no delivery pending').catch(() => {});
        await driver.call('POST', '/clock/advance', { minutes: fault.minutes });
      } finally {
        open();
      }
      return true;
    }
    case 'subscriptionRemoved': {
      const wanted = DESIRED[fault.subscription]!.resource;
      const s = (await activeSubscriptions(driver)).find((x) => x.resource === wanted);
      if (!s) return false;
      await driver.call('POST', `/subscriptions/${s.id}/lifecycle`, { lifecycleEvent: 'subscriptionRemoved' });
      return true;
    }
  }
}

interface Storage {
  readonly queues: QueueServiceClient;
  readonly blobs: BlobServiceClient;
  readonly backfillTable: TableClient;
  readonly subscriptionsTable: TableClient;
}

function storageOf(connectionString: string): Storage {
  const opts = { allowInsecureConnection: true };
  return {
    queues: QueueServiceClient.fromConnectionString(connectionString),
    blobs: BlobServiceClient.fromConnectionString(connectionString),
    backfillTable: TableClient.fromConnectionString(connectionString, 'backfill', opts),
    subscriptionsTable: TableClient.fromConnectionString(connectionString, 'subscriptions', opts),
  };
}

/**
 * Graph's delivery attempts, one line each, with what each batch carried (change type and resource, no
 * content): how a lost change's notification fared (given up, dropped, or answered 202).
 */
async function deliveryLog(driver: Driver): Promise<unknown[]> {
  const { value } = await driver.call<{ value: (DeliveryAttempt & { items: { changeType?: string; resource?: string; lifecycleEvent?: string }[] })[] }>('GET', '/deliveries');
  return value.map(({ items, ...attempt }) => ({ ...attempt, items: items.map((i) => [i.lifecycleEvent ?? i.changeType, i.resource]) }));
}

async function control(sim: SimulatorProcess): Promise<{ changes: RecordedChange[]; deliveriesIdle: boolean }> {
  const res = await fetch(`${sim.controlUrl}/changes`);
  return (await res.json()) as { changes: RecordedChange[]; deliveriesIdle: boolean };
}

async function queueDepth(queues: QueueServiceClient, name: string): Promise<number> {
  const q = queues.getQueueClient(name);
  if (!(await q.exists())) return 0;
  return (await q.getProperties()).approximateMessagesCount ?? 0;
}

/**
 * Waits until the app has caught up: Graph has nothing left to deliver or retry, every desired
 * subscription exists, every window without subscription the reconciler recorded is a gap, the gaps are
 * filled, the app's work queues are empty, a heartbeat ran since, and the downstream queues stopped
 * growing, twice in a row. Gives up at the cap (the report says `converged: false`).
 */
async function waitForQuiet(q: {
  driver: Driver;
  sim: SimulatorProcess;
  storage: Storage;
  host: HostProcess;
  lastDetectGaps: () => number;
  capMs: number;
  log: (line: string) => void;
}): Promise<boolean> {
  const deadline = Date.now() + q.capMs;
  let calm = 0;
  let previous = '';
  let lastReason = '';
  while (Date.now() < deadline) {
    await sleep(3000);
    const reason = await notQuietBecause(q).catch((e: Error) => `error: ${e.message}`);
    const depths = await Promise.all([...EVENT_QUEUES, ...DEAD_LETTER_QUEUES].map((n) => queueDepth(q.storage.queues, n))).catch(() => []);
    const snapshot = depths.join(',');
    if (reason === '' && snapshot === previous) calm++;
    else calm = 0;
    previous = snapshot;
    if (reason !== lastReason && reason) q.log(`  not quiet yet: ${reason}`);
    lastReason = reason;
    if (calm >= 2) return true;
  }
  return false;
}

async function notQuietBecause(q: { driver: Driver; sim: SimulatorProcess; storage: Storage; host: HostProcess; lastDetectGaps: () => number }): Promise<string> {
  if (!q.host.running) return 'host down';
  if (!(await control(q.sim)).deliveriesIdle) return 'Graph still delivering or retrying';
  const active = new Set((await activeSubscriptions(q.driver)).map((s) => s.resource));
  const missing = DESIRED.filter((d) => !active.has(d.resource)).map((d) => d.name);
  if (missing.length) return `subscriptions missing: ${missing.join(', ')}`;
  const gaps = await new GapLog(q.storage.backfillTable).list().catch(() => []);
  const known = new Set(gaps.map((g) => g.id));
  for (const r of await new SubscriptionRecords(q.storage.subscriptionsTable).list()) {
    if (r.gapFrom && !r.gapTo) return `${r.name}: window without subscription still open`;
    for (const w of recordedWindows(r)) if (!known.has(w.gapId)) return `${r.name}: recreation window not yet a gap`;
  }
  const unfilled = gaps.filter((g) => g.status === 'open' || g.status === 'filling');
  if (unfilled.length) return `${unfilled.length} gap(s) filling`;
  for (const name of WORK_QUEUES) if ((await queueDepth(q.storage.queues, name)) > 0) return `${name} not empty`;
  if (q.lastDetectGaps() < q.host.startedAt) return 'no heartbeat since the last start';
  return '';
}

/** Every downstream event (received without deleting: the run is over). */
async function readEvents(queues: QueueServiceClient): Promise<FoundEvent[]> {
  const out: FoundEvent[] = [];
  for (const name of EVENT_QUEUES) {
    for (const text of await readAll(queues, name)) {
      const e = decodeJsonMessage<{ subject: string; changetype: string; kind: string; time: string; data?: Record<string, unknown>; backfilled?: boolean }>(text);
      out.push({ subject: e.subject, changeType: e.changetype, kind: e.kind, version: versionOf(e.kind, e.data), timeMs: Date.parse(e.time), backfilled: e.backfilled === true });
    }
  }
  return out;
}

function versionOf(kind: string, data: Record<string, unknown> | undefined): string | null {
  if (!data) return null;
  const s = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  if (kind === 'chat') return s(data.lastUpdatedDateTime) ?? null;
  if (kind === 'chatMember') return null;
  return s(data.etag) ?? s(data['@odata.etag']) ?? (s(data.lastModifiedDateTime) ? String(Date.parse(s(data.lastModifiedDateTime)!)) : null);
}

async function readAll(queues: QueueServiceClient, name: string): Promise<string[]> {
  const q = queues.getQueueClient(name);
  if (!(await q.exists())) return [];
  const texts: string[] = [];
  for (;;) {
    const { receivedMessageItems } = await q.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 3600 });
    if (receivedMessageItems.length === 0) return texts;
    texts.push(...receivedMessageItems.map((m) => m.messageText));
  }
}

/** What the dead-letter and poison queues hold, decrypted with the run's certificates where possible. */
async function readDeadLetters(queues: QueueServiceClient, blobs: BlobServiceClient, certDir: string): Promise<Omit<FoundEvent, 'timeMs' | 'backfilled'>[]> {
  const store = new LocalCertificateStore(certDir);
  const out: Omit<FoundEvent, 'timeMs' | 'backfilled'>[] = [];
  for (const name of DEAD_LETTER_QUEUES) {
    for (const text of await readAll(queues, name)) {
      // A dead letter's original (its own blob read when large; the copy of the blob a claim check refers to), or a poison message.
      const letter = (await readDeadLetter(blobs, text))?.letter;
      let body: QueueMessageBody;
      try {
        body = letter?.referencedBlob ? (JSON.parse(letter.referencedBlob.content) as QueueMessageBody) : decodeJsonMessage<QueueMessageBody>(letter?.originalMessage ?? text);
      } catch {
        continue;
      }
      // A poisoned v2 message holds a whole Graph request: each of its items counts.
      const items = isQueueMessageBody(body) && !isClaimCheck(body) ? unpackQueued(body) : [];
      for (const item of items) {
        if (!item.notification.resource) continue;
        const n = item.notification as { resource: string; changeType: string; encryptedContent?: EncryptedResourceData & { encryptionCertificateId: string } };
        let version: string | null = null;
        const kind = /\/members\(/i.test(n.resource) ? 'chatMember' : /\/messages\(|\/replies\(/i.test(n.resource) ? 'message' : 'chat';
        if (n.encryptedContent) {
          const key = await store.decryptionKey(n.encryptedContent.encryptionCertificateId).catch(() => undefined);
          if (key) {
            try {
              version = versionOf(kind, decryptResourceData(n.encryptedContent, key) as Record<string, unknown>);
            } catch {
              version = null;
            }
          }
        }
        out.push({ subject: n.resource, changeType: n.changeType, kind, version });
      }
    }
  }
  return out;
}
