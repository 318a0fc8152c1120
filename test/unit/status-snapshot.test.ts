import { describe, expect, it } from 'vitest';
import { createRecordingLogger } from '../../shared/log.js';
import { countingLogger } from '../../shared/metrics/counting-logger.js';
import { counterKey, type HistogramName, type MetricName, type Metrics } from '../../shared/metrics/metrics.js';
import { bucketOf, emptyBuckets } from '../../shared/metrics/histogram.js';
import { appQueues } from '../../shared/queue/app-queues.js';
import { gatherStatus, type DesiredView } from '../../shared/status/status-snapshot.js';
import { parseDesiredSubscriptions } from '../../shared/subscriptions/desired-subscriptions.js';
import { TenantDesiredSubscriptions } from '../../shared/subscriptions/tenant-desired-subscriptions.js';
import { TenantDirectory } from '../../shared/tenants/tenant-directory.js';
import type { TenantRecord } from '../../shared/tenants/tenant-registry.js';
import { nonEmpty } from '../helpers/non-empty.js';

const HOME = 'aaaaaaaa-0000-4000-8000-000000000001';
/** Desired subscriptions all of the home tenant. */
const homeOnly = (desired: DesiredView[]) => ({ all: desired, forTenant: (t: string) => (t === HOME ? desired : []) });
/** GRAPH_TENANT_IDS = the home tenant, and a registry holding `records` (a list that throws: a registry down). */
const directory = (list: () => Promise<TenantRecord[]> = async () => []) => new TenantDirectory({ configured: [HOME], registry: { list } });

describe('the queues the app owns', () => {
  const settings = { notificationsQueue: 'in', notificationsQueuePartitions: 1, lifecycleQueue: 'life', deadLetterQueue: 'dead', subscriptionEventsQueue: 'events', backfill: { queue: 'fill' } };
  it('lists each queue once, with a -poison queue for each queue a function is triggered by', () => {
    const queues = appQueues(settings, ['teams-chats', 'teams-chats', 'events']);
    expect(queues.map((q) => `${q.role}:${q.name}`)).toEqual([
      'incoming:in',
      'lifecycle:life',
      'backfill:fill',
      'downstream:teams-chats',
      'downstream:events',
      'dead-letter:dead',
      'poison:in-poison',
      'poison:life-poison',
      'poison:fill-poison',
    ]);
  });

  it('lists every partition of the incoming queue and its -poison queue', () => {
    const names = appQueues({ ...settings, notificationsQueuePartitions: 3 }, []).map((q) => `${q.role}:${q.name}`);
    expect(names.filter((n) => n.startsWith('incoming:'))).toEqual(['incoming:in', 'incoming:in-1', 'incoming:in-2']);
    expect(names).toEqual(expect.arrayContaining(['poison:in-poison', 'poison:in-1-poison', 'poison:in-2-poison']));
  });
});

describe('counting what is logged', () => {
  function recorder(): Metrics & { counts: Record<string, number>; kinds: string[]; delays: [string, number][] } {
    const counts: Record<string, number> = {};
    const kinds: string[] = [];
    const delays: [string, number][] = [];
    return {
      counts,
      kinds,
      delays,
      add: (c: MetricName, label?: string, by = 1) => void (counts[counterKey(c, label)] = (counts[counterKey(c, label)] ?? 0) + by),
      observe: (h: HistogramName, label: string, ms: number) => void delays.push([counterKey(h, label), ms]),
      routedAt: (kind) => void kinds.push(kind),
    };
  }

  it('counts each outcome line once, passes every line on unchanged, and ignores the others', () => {
    const inner = createRecordingLogger();
    const m = recorder();
    const log = countingLogger(inner, m, () => new Date('2026-11-23T12:00:02.500Z'));
    log.info('receive.accepted', { accepted: 3, rejected: 2 });
    log.warn('security.notification_rejected', { reason: 'validation_token_missing', tenantId: 'BBBB0000-0000-4000-8000-00000000000B', count: 2 });
    log.warn('security.notification_rejected', { reason: 'client_state_mismatch', tenantId: 'bbbb0000-0000-4000-8000-00000000000b', count: 2 });
    log.warn('security.rejections_summary', { items: { client_state_mismatch: 2 }, tokens: { expired: 1 }, omittedLines: 0 });
    log.warn('receive.bad_request', { code: 'unsupported_media_type' });
    log.info('route.routed', { type: 'com.microsoft.graph.teams.chatMessage.created', changedAt: '2026-11-23T12:00:00.000Z' });
    log.info('route.routed', { type: 'com.microsoft.graph.teams.chat.updated', backfilled: true, changedAt: '2026-11-20T12:00:00.000Z' });
    log.info('route.duplicate_skipped', {});
    log.warn('route.dead_lettered', { reason: 'no_route' });
    log.warn('lifecycle.dead_lettered', { reason: 'malformed_message' });
    log.error('route.poison_dead_lettered', {});
    log.info('subscriptions.reconciled', { created: 4 });
    expect(m.counts).toEqual({
      accepted: 3,
      'tokens_missing.bbbb0000-0000-4000-8000-00000000000b': 2,
      'rejected.client_state_mismatch': 2,
      'rejected.expired': 1,
      'rejected.unsupported_media_type': 1,
      'routed.chatMessage': 1,
      'routed.chat': 1,
      backfilled: 1,
      duplicates: 1,
      'dead_letters.no_route': 1,
      'dead_letters.malformed_message': 1,
      'dead_letters.poisoned': 1,
    });
    expect(m.kinds).toEqual(['chatMessage', 'chat']);
    // A live event's delay, from its change time to when it was routed; a backfilled one's is not a delay of delivery.
    expect(m.delays).toEqual([['delay_ms.chatMessage', 2500]]);
    expect(inner.lines.map((l) => l.event)).toHaveLength(12);
    expect(inner.lines[0]).toEqual({ level: 'info', event: 'receive.accepted', fields: { accepted: 3, rejected: 2 } });
  });
});

describe('the status snapshot', () => {
  it('joins the desired subscriptions with their records, counts queues and dead-letter reasons, and masks function keys in errors', async () => {
    const s = await gatherStatus({
      desired: homeOnly([
        { name: 'all-chats', resource: '/chats' },
        { name: 'never-created', resource: '/chats/getAllMembers' },
      ]),
      tenants: directory(),
      records: {
        list: async () => [
          {
            name: 'all-chats',
            subscriptionId: 'sub-1',
            expiresAt: '2026-11-26T00:00:00Z',
            lastAction: 'failed',
            lastError: 'Graph refused https://relay.example/api/notifications?code=SECRETKEY',
            certificateId: 'cert-1',
            clientStateFingerprint: 'f',
          },
        ],
      },
      clientStateOf: (r) => (r.clientStateFingerprint === 'f' ? '1 (current)' : undefined),
      deliveries: { lastDeliveries: async () => new Map([['sub-1', '2026-11-23T11:00:00Z']]) },
      queues: [
        { name: 'in', role: 'incoming' },
        { name: 'dead', role: 'dead-letter' },
        { name: 'in-poison', role: 'poison' },
      ],
      messageCount: async (name) => ({ in: 4, dead: 3 })[name],
      peekDeadLetterReasons: async () => ['no_route', 'unknown_certificate', 'no_route'],
      deadLetterQueue: 'dead',
      metrics: { read: async (since) => ({ counters: { since: since.getTime() }, histograms: {}, hours: [], lastRouted: { chat: '2026-11-23T11:59:00Z' } }) },
      oldestMessageAge: async (name) => ({ in: 42, dead: 7 })[name],
      selfChecks: { list: async () => [] },
      liveChecks: [],
      queueAgeMinutes: 10,
      now: () => new Date('2026-11-23T12:00:00Z'),
    });
    expect(s.subscriptions).toEqual([
      {
        name: 'all-chats',
        tenantId: HOME,
        resource: '/chats',
        subscriptionId: 'sub-1',
        expiresAt: '2026-11-26T00:00:00Z',
        lastRenewedAt: null,
        lastDeliveryAt: '2026-11-23T11:00:00Z',
        lastAction: 'failed',
        lastError: 'Graph refused https://relay.example/api/notifications?code=***',
        clientState: '1 (current)',
        certificateId: 'cert-1',
      },
      {
        name: 'never-created',
        tenantId: HOME,
        resource: '/chats/getAllMembers',
        subscriptionId: null,
        expiresAt: null,
        lastRenewedAt: null,
        lastDeliveryAt: null,
        lastAction: null,
        lastError: null,
        clientState: null,
        certificateId: null,
      },
    ]);
    expect(s.queues).toEqual([
      { name: 'in', role: 'incoming', approximateMessageCount: 4, oldestMessageAgeSeconds: 42 },
      { name: 'dead', role: 'dead-letter', approximateMessageCount: 3, oldestMessageAgeSeconds: 7 },
      { name: 'in-poison', role: 'poison', approximateMessageCount: null, oldestMessageAgeSeconds: null },
    ]);
    expect(s.deadLetters).toEqual({ queue: 'dead', waiting: 3, sampled: 3, byReason: { no_route: 2, unknown_certificate: 1 } });
    expect(s.metrics).toEqual({ since: '2026-11-22T12:00:00.000Z', counters: { since: Date.parse('2026-11-22T12:00:00Z') } });
    expect(s.lastRouted).toEqual({ chat: '2026-11-23T11:59:00Z' });
  });
});

describe('the status snapshot: health and measures', () => {
  const NOW = new Date('2026-11-23T12:30:00Z');
  const hist = (...values: number[]) => {
    const b = emptyBuckets();
    for (const v of values) b[bucketOf(v)] = (b[bucketOf(v)] ?? 0) + 1;
    return b;
  };
  const base = (over: Partial<Parameters<typeof gatherStatus>[0]> = {}): Parameters<typeof gatherStatus>[0] => ({
    desired: homeOnly([{ name: 'all-chats', resource: '/chats' }]),
    tenants: directory(),
    records: { list: async () => [{ name: 'all-chats', subscriptionId: 'sub-1' }] },
    clientStateOf: () => undefined,
    deliveries: { lastDeliveries: async () => new Map() },
    queues: [
      { name: 'in', role: 'incoming' },
      { name: 'dead', role: 'dead-letter' },
    ],
    messageCount: async () => 0,
    oldestMessageAge: async () => 0,
    peekDeadLetterReasons: async () => [],
    deadLetterQueue: 'dead',
    metrics: { read: async () => ({ counters: {}, histograms: {}, hours: [], lastRouted: {} }) },
    selfChecks: { list: async () => [{ check: 'encryption_certificate', status: 'ok', message: 'valid', checkedAt: '2026-11-23T12:28:00Z' }] },
    liveChecks: [],
    queueAgeMinutes: 10,
    now: () => NOW,
    ...over,
  });

  it('is healthy when every check passes, nothing waits and storage answers', async () => {
    const s = await gatherStatus(base());
    expect(s.health).toEqual({ verdict: 'healthy', reasons: [] });
  });

  it('gives delay percentiles per kind, answers with slow ones and 5xx, and 24 hourly points per kind', async () => {
    const totals = {
      counters: { 'routed.chatMessage': 5, 'answers.notifications.202': 8, 'answers.notifications.503': 2, 'answers.lifecycle.202': 1, 'slow_answers.notifications': 1 },
      histograms: { 'delay_ms.chatMessage': hist(300, 400, 450, 800, 5_000), 'answer_ms.notifications': hist(20, 30, 3_500), 'answer_ms.lifecycle': hist(15) },
      lastRouted: {},
      hours: [
        { hour: '2026-11-23T11:00:00.000Z', counters: { 'routed.chatMessage': 3 }, histograms: { 'delay_ms.chatMessage': hist(300, 400, 450) } },
        { hour: '2026-11-23T12:00:00.000Z', counters: { 'routed.chatMessage': 2 }, histograms: { 'delay_ms.chatMessage': hist(800, 5_000) } },
      ],
    };
    const s = await gatherStatus(base({ metrics: { read: async () => totals } }));
    const d = s.delay.chatMessage;
    expect(d?.count).toBe(5);
    expect(d?.p50).toBeGreaterThan(250);
    expect(d?.p50).toBeLessThanOrEqual(500);
    expect(d?.p99).toBeGreaterThan(4_000);
    expect(d?.p99).toBeLessThanOrEqual(6_000);
    expect(s.answers).toMatchObject({ count: 11, slow: 1, serverErrors: 2 });
    expect(s.answers.ms?.count).toBe(4);
    expect(s.hourly.hours).toHaveLength(24);
    expect(s.hourly.hours.at(-1)).toBe('2026-11-23T12:00:00.000Z');
    expect(s.hourly.hours[0]).toBe('2026-11-22T13:00:00.000Z');
    const series = s.hourly.kinds.chatMessage;
    expect(series?.routed.slice(-2)).toEqual([3, 2]);
    expect(nonEmpty(series?.routed.slice(0, -2) ?? []).every((n) => n === 0)).toBe(true);
    expect(nonEmpty(series?.p95.slice(0, -2) ?? []).every((n) => n === null)).toBe(true);
    expect(series?.p95.at(-1)).toBeGreaterThan(series?.p95.at(-2) ?? Infinity);
  });

  it('still answers when storage does not, with a degraded verdict naming what did not answer', async () => {
    const down = async (): Promise<never> => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:10001');
    };
    const s = await gatherStatus(
      base({ tenants: directory(down), records: { list: down }, messageCount: down, oldestMessageAge: down, peekDeadLetterReasons: down, metrics: { read: down }, selfChecks: { list: down } }),
    );
    expect(s.health.verdict).toBe('degraded');
    expect(s.health.reasons.length).toBeGreaterThan(0);
    expect(nonEmpty(s.health.reasons).every((r) => r.source === 'storage')).toBe(true);
    expect(s.health.reasons.map((r) => r.message).join('\n')).toMatch(/subscription records \(connect ECONNREFUSED/);
    expect(s.health.reasons.map((r) => r.message).join('\n')).toMatch(/tenant registry \(connect ECONNREFUSED/);
    // Without the registry, the tenants of GRAPH_TENANT_IDS are still shown, as served.
    expect(s.tenants).toMatchObject([{ id: HOME, name: '(GRAPH_TENANT_IDS)', state: 'active', registered: false, subscriptions: 0 }]);
    expect(s.subscriptions[0]?.subscriptionId).toBeNull();
    expect(nonEmpty(s.queues).every((q) => q.approximateMessageCount === null && q.oldestMessageAgeSeconds === null)).toBe(true);
  });

  it('fails on a failing self-check, degrades on a warning, dead letters or a lagging work queue, and runs the live checks afresh', async () => {
    const s = await gatherStatus(
      base({
        selfChecks: {
          list: async () => [
            { check: 'graph_credential', status: 'warn', message: 'the Graph client secret expires in 12 days', fix: 'rotate it', checkedAt: '2026-11-23T12:28:00Z' },
            { check: 'subscriptions', status: 'fail', message: 'stale: no subscription', checkedAt: '2026-11-23T12:28:00Z' },
          ],
        },
        liveChecks: [{ name: 'subscriptions', run: async () => ({ status: 'fail', message: 'no subscription in Graph for all-chats', fix: 'sync' }) }],
        messageCount: async (name) => (name === 'dead' ? 2 : 0),
        oldestMessageAge: async (name) => (name === 'in' ? 15 * 60 : 0),
      }),
    );
    expect(s.health.verdict).toBe('failing');
    expect(s.health.reasons.map((r) => [r.level, r.source])).toEqual([
      ['failing', 'subscriptions'],
      ['degraded', 'graph_credential'],
      ['degraded', 'dead_letters'],
      ['degraded', 'queues'],
    ]);
    expect(s.health.reasons[0]?.message).toBe('no subscription in Graph for all-chats');
    expect(s.selfChecks.map((c) => c.check)).toEqual(['graph_credential', 'subscriptions']);
    expect(s.selfChecks.find((c) => c.check === 'subscriptions')?.checkedAt).toBe(NOW.toISOString());
  });

  it('says when the self-checks stopped running', async () => {
    const s = await gatherStatus(base({ selfChecks: { list: async () => [{ check: 'encryption_certificate', status: 'ok', message: 'valid', checkedAt: '2026-11-23T11:00:00Z' }] } }));
    expect(s.health).toMatchObject({ verdict: 'degraded', reasons: [{ source: 'self_checks', message: 'the self-checks last ran at 2026-11-23T11:00:00.000Z' }] });
    const none = await gatherStatus(base({ selfChecks: { list: async () => [] } }));
    expect(none.health.reasons.map((r) => r.message)).toEqual(['the self-checks have not run yet']);
  });
});

describe('the status snapshot: tenants', () => {
  const OTHER = 'bbbbbbbb-0000-4000-8000-000000000002';
  const GONE = 'cccccccc-0000-4000-8000-000000000003';
  const NOW = new Date('2026-11-23T12:30:00Z');
  const entries = parseDesiredSubscriptions({
    subscriptions: [
      { name: 'all-chats', resource: '/chats', changeTypes: ['created'] },
      { name: 'chat-messages', resource: '/chats/getAllMessages', changeTypes: ['created'] },
    ],
  });
  const rows: TenantRecord[] = [
    {
      tenantId: OTHER,
      displayName: 'Contoso',
      state: 'degraded',
      addedAt: '2026-11-20T00:00:00Z',
      missingPermissions: 'ChannelMessage.Read.All,Chat.Read.All',
      lastErrorCode: 'missing_permission',
      lastError: 'Graph refused https://relay.example/api/notifications?code=SECRETKEY',
      lastErrorAt: '2026-11-23T12:00:00Z',
      quotaUsed: 1,
      updatedAt: '2026-11-23T12:00:00Z',
    },
    {
      tenantId: GONE,
      state: 'removed',
      addedAt: '2026-11-01T00:00:00Z',
      lastErrorCode: 'consent_revoked',
      lastError: 'consent revoked',
      lastErrorAt: '2026-11-10T00:00:00Z',
      updatedAt: '2026-11-10T00:00:00Z',
    },
  ];

  it("lists each tenant served, then the registry's others, with its subscriptions held, their latest delivery, its quota and its problem", async () => {
    const tenants = directory(async () => rows);
    const s = await gatherStatus({
      desired: new TenantDesiredSubscriptions(entries, tenants),
      tenants,
      records: {
        list: async () => [
          { name: 'all-chats', subscriptionId: 'h-1' },
          { name: 'chat-messages', subscriptionId: 'h-2' },
          { name: `all-chats@${OTHER}`, subscriptionId: 'o-1' },
          { name: `chat-messages@${OTHER}`, lastAction: 'failed', lastError: 'Forbidden' },
        ],
      },
      clientStateOf: () => undefined,
      deliveries: {
        lastDeliveries: async () =>
          new Map([
            ['h-1', '2026-11-23T12:10:00Z'],
            ['h-2', '2026-11-23T12:20:00Z'],
            ['o-1', '2026-11-23T09:00:00Z'],
          ]),
      },
      queues: [],
      messageCount: async () => 0,
      oldestMessageAge: async () => 0,
      peekDeadLetterReasons: async () => [],
      deadLetterQueue: 'dead',
      metrics: { read: async () => ({ counters: {}, histograms: {}, hours: [], lastRouted: {} }) },
      selfChecks: { list: async () => [] },
      liveChecks: [],
      queueAgeMinutes: 10,
      now: () => NOW,
    });
    expect(s.tenants).toEqual([
      {
        id: HOME,
        name: '(GRAPH_TENANT_IDS)',
        state: 'active',
        registered: false,
        subscriptions: 2,
        lastDelivery: '2026-11-23T12:20:00Z',
        quotaUsed: null,
        quotaLimit: 10_000,
        missingPermissions: [],
        problem: null,
      },
      {
        id: OTHER,
        name: 'Contoso',
        state: 'degraded',
        registered: true,
        subscriptions: 1,
        lastDelivery: '2026-11-23T09:00:00Z',
        quotaUsed: 1,
        quotaLimit: 10_000,
        missingPermissions: ['ChannelMessage.Read.All', 'Chat.Read.All'],
        problem: { code: 'missing_permission', message: 'Graph refused https://relay.example/api/notifications?code=***', at: '2026-11-23T12:00:00Z' },
      },
      {
        id: GONE,
        name: null,
        state: 'removed',
        registered: true,
        subscriptions: 0,
        lastDelivery: null,
        quotaUsed: null,
        quotaLimit: 10_000,
        missingPermissions: [],
        problem: { code: 'consent_revoked', message: 'consent revoked', at: '2026-11-10T00:00:00Z' },
      },
    ]);
    // The subscriptions are every served tenant's (not the removed one's), each with its tenant; the home tenant's keep their names.
    expect(s.subscriptions.map((x) => [x.name, x.tenantId, x.subscriptionId])).toEqual([
      ['all-chats', HOME, 'h-1'],
      ['chat-messages', HOME, 'h-2'],
      [`all-chats@${OTHER}`, OTHER, 'o-1'],
      [`chat-messages@${OTHER}`, OTHER, null],
    ]);
  });
});
