import { Prng } from './prng.js';

/** Teams activity the chaos run performs through the simulator's driver API, at `at` ms after the start. */
export type ActivityOp = { readonly at: number } & (
  | { readonly op: 'createChat'; readonly chat: number; readonly members: readonly number[]; readonly topic: string }
  | { readonly op: 'renameChat'; readonly chat: number; readonly topic: string }
  | { readonly op: 'addMember' | 'removeMember'; readonly chat: number; readonly user: number }
  | { readonly op: 'hideChat'; readonly chat: number; readonly user: number }
  | { readonly op: 'postChatMessage'; readonly chat: number; readonly message: number; readonly from: number; readonly content: string }
  | { readonly op: 'editChatMessage'; readonly chat: number; readonly message: number; readonly content: string }
  | { readonly op: 'deleteChatMessage'; readonly chat: number; readonly message: number }
  | { readonly op: 'postChannelMessage'; readonly channel: number; readonly message: number; readonly from: number; readonly content: string; readonly replyTo?: number }
  | { readonly op: 'editChannelMessage'; readonly channel: number; readonly message: number; readonly content: string }
  | { readonly op: 'deleteChannelMessage'; readonly channel: number; readonly message: number }
);

export const FAULT_KINDS = [
  'hostKill',
  'hostKillMidBackfill',
  'azuriteRestart',
  'subscriptionsThrottle',
  'slowEndpoint',
  'duplicateDelivery',
  'certUnreadable',
  'clockAdvance',
  'subscriptionRemoved',
  'instanceKill',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type Fault = { readonly at: number } &
  /** SIGKILL the host; restart it after `downMs` (past Graph's retry window when long). */
  (
    | { readonly kind: 'hostKill'; readonly downMs: number }
    /**
     * Graph removes desired subscription `subscription`; once the app recreated it and opened the gap, the
     * host is killed `afterGapMs` into the backfill and restarted.
     */
    | { readonly kind: 'hostKillMidBackfill'; readonly subscription: number; readonly afterGapMs: number }
    /** Stop Azurite for `downMs` and start it again on the same data. */
    | { readonly kind: 'azuriteRestart'; readonly downMs: number }
    /** The next `count` subscriptions API calls answer `status` with Retry-After. */
    | { readonly kind: 'subscriptionsThrottle'; readonly count: number; readonly status: 429 | 503; readonly retryAfterSeconds: number }
    /** Graph counts answers slower than `requestTimeoutMs` as failed (and retries them) for `forMs`. */
    | { readonly kind: 'slowEndpoint'; readonly requestTimeoutMs: number; readonly forMs: number }
    /** Graph delivers a share `rate` of successful batches twice for `forMs`. */
    | { readonly kind: 'duplicateDelivery'; readonly rate: number; readonly forMs: number }
    /** The certificate folder cannot be read for `forMs`; the host is restarted at its start so it has no key cached. */
    | { readonly kind: 'certUnreadable'; readonly forMs: number }
    /** The simulated clock jumps `minutes` ahead: subscriptions come close to expiry (reauthorizationRequired). */
    | { readonly kind: 'clockAdvance'; readonly minutes: number }
    /** Graph removes one desired subscription (by its index in the desired list) with a subscriptionRemoved lifecycle event. */
    | { readonly kind: 'subscriptionRemoved'; readonly subscription: number }
    /** On Flex's topology: SIGKILL one instance (a route instance mid-batch, the HTTP instance, a timer's); the topology replaces it. */
    | { readonly kind: 'instanceKill'; readonly target: 'route' | 'http' | 'timer' }
  );

export interface ChaosPlan {
  readonly seed: number;
  readonly seconds: number;
  readonly users: number;
  readonly channels: number;
  readonly activity: readonly ActivityOp[];
  readonly faults: readonly Fault[];
}

export interface PlanOptions {
  readonly seed: number;
  readonly seconds: number;
  /** Activity operations per second. */
  readonly rate: number;
  /** Fault kinds to draw from (default: all). */
  readonly faultKinds?: readonly FaultKind[];
  /** Number of desired subscriptions (for subscriptionRemoved). */
  readonly subscriptions: number;
  /** The subscriptions' lifetime: a clock advance leaves them just under 15 minutes (reauthorizationRequired). */
  readonly lifetimeMinutes: number;
  /** A downtime at least this long outlasts Graph's retries (and the app's downtime threshold). */
  readonly longDowntimeMs: number;
}

const USERS = 6;
const CHANNELS = 4;

/** Nominal duration of a fault, to space the schedule (the run executes faults one after the other). */
function nominalMs(f: Fault): number {
  switch (f.kind) {
    case 'hostKill':
      // A long downtime runs in the background: faults that leave the host alone go on meanwhile. A host
      // start takes 5–10 s on a loaded machine.
      return f.downMs > 10_000 ? 5000 : f.downMs + 10_000;
    case 'hostKillMidBackfill':
      return f.afterGapMs + 60_000;
    case 'azuriteRestart':
      return f.downMs + 10_000;
    case 'certUnreadable':
      return f.forMs + 10_000;
    case 'instanceKill':
      // The topology starts a new instance when work waits: a few seconds.
      return 5000;
    case 'slowEndpoint':
    case 'duplicateDelivery':
      return f.forMs;
    default:
      return 1000;
  }
}

/** The whole schedule of a run, computed up front from the seed: the same seed gives the same activity and faults. */
export function planChaos(o: PlanOptions): ChaosPlan {
  return { seed: o.seed, seconds: o.seconds, users: USERS, channels: CHANNELS, activity: planActivity(new Prng(o.seed), o), faults: planFaults(new Prng(o.seed ^ 0x9e3779b9), o) };
}

function planActivity(r: Prng, o: PlanOptions): ActivityOp[] {
  const ops: ActivityOp[] = [];
  const chats: { members: Set<number>; removed: Set<number> }[] = [];
  const chatMessages: { chat: number; deleted: boolean }[] = [];
  const channelMessages: { channel: number; root: boolean; deleted: boolean }[] = [];
  const end = o.seconds * 1000;
  let n = 0;
  const text = () => `chaos ${o.seed} #${++n}`;
  for (let at = r.between(0, 1000 / o.rate); at < end; at += r.between(0.5, 1.5) * (1000 / o.rate)) {
    const live = chatMessages.map((m, i) => ({ ...m, i })).filter((m) => !m.deleted);
    const liveChannel = channelMessages.map((m, i) => ({ ...m, i })).filter((m) => !m.deleted);
    const kind =
      chats.length === 0
        ? 'createChat'
        : r.weighted({
            createChat: 4,
            renameChat: 5,
            member: 10,
            hideChat: 1,
            postChatMessage: 30,
            editChatMessage: live.length ? 12 : 0,
            deleteChatMessage: live.length ? 5 : 0,
            postChannelMessage: 18,
            editChannelMessage: liveChannel.length ? 8 : 0,
            deleteChannelMessage: liveChannel.length ? 3 : 0,
          });
    const chat = chats.length ? r.int(0, chats.length - 1) : 0;
    switch (kind) {
      case 'createChat': {
        const members = r.shuffle([...Array(USERS).keys()]).slice(0, r.int(2, 4));
        chats.push({ members: new Set(members), removed: new Set() });
        ops.push({ at, op: 'createChat', chat: chats.length - 1, members, topic: text() });
        break;
      }
      case 'renameChat':
        ops.push({ at, op: 'renameChat', chat, topic: text() });
        break;
      case 'member': {
        const c = chats[chat]!;
        const outside = [...Array(USERS).keys()].filter((u) => !c.members.has(u));
        // Re-adding someone who was removed is preferred: Graph gives the same membership id again.
        const readd = [...c.removed].filter((u) => !c.members.has(u));
        if (c.members.size > 2 && (outside.length === 0 || r.chance(0.5))) {
          const user = r.pick([...c.members].sort((a, b) => a - b));
          c.members.delete(user);
          c.removed.add(user);
          ops.push({ at, op: 'removeMember', chat, user });
        } else if (outside.length > 0) {
          const user = readd.length && r.chance(0.6) ? r.pick(readd.sort((a, b) => a - b)) : r.pick(outside);
          c.members.add(user);
          ops.push({ at, op: 'addMember', chat, user });
        }
        break;
      }
      case 'hideChat':
        ops.push({ at, op: 'hideChat', chat, user: r.pick([...chats[chat]!.members].sort((a, b) => a - b)) });
        break;
      case 'postChatMessage':
        chatMessages.push({ chat, deleted: false });
        ops.push({ at, op: 'postChatMessage', chat, message: chatMessages.length - 1, from: r.pick([...chats[chat]!.members].sort((a, b) => a - b)), content: text() });
        break;
      case 'editChatMessage': {
        const m = r.pick(live);
        ops.push({ at, op: 'editChatMessage', chat: m.chat, message: m.i, content: text() });
        break;
      }
      case 'deleteChatMessage': {
        const m = r.pick(live);
        chatMessages[m.i]!.deleted = true;
        ops.push({ at, op: 'deleteChatMessage', chat: m.chat, message: m.i });
        break;
      }
      case 'postChannelMessage': {
        const channel = r.int(0, CHANNELS - 1);
        const roots = liveChannel.filter((m) => m.root && m.channel === channel);
        const replyTo = roots.length && r.chance(0.4) ? r.pick(roots).i : undefined;
        channelMessages.push({ channel, root: replyTo === undefined, deleted: false });
        ops.push({ at, op: 'postChannelMessage', channel, message: channelMessages.length - 1, from: r.int(0, USERS - 1), content: text(), ...(replyTo !== undefined ? { replyTo } : {}) });
        break;
      }
      case 'editChannelMessage': {
        const m = r.pick(liveChannel);
        ops.push({ at, op: 'editChannelMessage', channel: m.channel, message: m.i, content: text() });
        break;
      }
      case 'deleteChannelMessage': {
        const m = r.pick(liveChannel);
        channelMessages[m.i]!.deleted = true;
        ops.push({ at, op: 'deleteChannelMessage', channel: m.channel, message: m.i });
        break;
      }
    }
  }
  return ops;
}

function planFaults(r: Prng, o: PlanOptions): Fault[] {
  const kinds = o.faultKinds ?? FAULT_KINDS;
  const faults: Fault[] = [];
  // Every kind once, in a seeded order, then drawn at random; the clock moves at most once (see docs/reliability.md).
  const firstRound = r.shuffle(kinds);
  const weights: Record<FaultKind, number> = {
    hostKill: 4,
    hostKillMidBackfill: 1,
    azuriteRestart: 2,
    subscriptionsThrottle: 2,
    slowEndpoint: 2,
    duplicateDelivery: 2,
    certUnreadable: 1,
    clockAdvance: 0,
    subscriptionRemoved: 2,
    instanceKill: 4,
  };
  for (const k of FAULT_KINDS) if (!kinds.includes(k)) weights[k] = 0;
  if (Object.values(weights).every((w) => w === 0) && firstRound.length === 0) return faults;
  const end = o.seconds * 1000 - 4000;
  for (let at = 3000; at < end;) {
    const kind: FaultKind | undefined = firstRound.shift() ?? (Object.values(weights).some((w) => w > 0) ? r.weighted(weights) : undefined);
    if (!kind) break;
    const fault = makeFault(r, kind, at, o, faults.filter((f) => f.kind === 'instanceKill').length);
    faults.push(fault);
    at += nominalMs(fault) + r.between(2000, 6000);
  }
  return faults;
}

const INSTANCE_TARGETS = ['route', 'http', 'timer'] as const;

function makeFault(r: Prng, kind: FaultKind, at: number, o: PlanOptions, instanceKills: number): Fault {
  switch (kind) {
    case 'hostKill': {
      // Short: Graph's retries bridge it. Long (runs of 5 minutes or more): past Graph's sped-up retry
      // window, so only the backfill of the downtime gap can bring those changes.
      const long = r.chance(0.3) && o.seconds >= 300;
      return { at, kind, downMs: long ? r.int(o.longDowntimeMs, o.longDowntimeMs + 15_000) : r.int(200, 3000) };
    }
    case 'hostKillMidBackfill':
      return { at, kind, subscription: r.int(0, o.subscriptions - 1), afterGapMs: r.int(200, 3000) };
    case 'azuriteRestart':
      return { at, kind, downMs: r.int(1500, 5000) };
    case 'subscriptionsThrottle':
      return { at, kind, count: r.int(2, 6), status: r.chance(0.5) ? 429 : 503, retryAfterSeconds: r.int(1, 3) };
    case 'slowEndpoint':
      return { at, kind, requestTimeoutMs: r.int(30, 250), forMs: r.int(4000, 10_000) };
    case 'duplicateDelivery':
      return { at, kind, rate: r.between(0.3, 1), forMs: r.int(4000, 10_000) };
    case 'certUnreadable':
      return { at, kind, forMs: r.int(4000, 9000) };
    case 'clockAdvance':
      // To just under 15 minutes before expiry of a subscription made at the start: Graph asks for reauthorization.
      return { at, kind, minutes: o.lifetimeMinutes - 14 };
    case 'subscriptionRemoved':
      return { at, kind, subscription: r.int(0, o.subscriptions - 1) };
    case 'instanceKill':
      // In turn, so that any three kills hit each: a route instance mid-batch, the HTTP one, a timer's.
      return { at, kind, target: INSTANCE_TARGETS[instanceKills % INSTANCE_TARGETS.length]! };
  }
}
