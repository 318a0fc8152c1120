import { describe, expect, it } from 'vitest';
import { createRecordingLogger } from '../../shared/log.js';
import { countingLogger } from '../../shared/metrics/counting-logger.js';
import { counterKey, type MetricName, type Metrics } from '../../shared/metrics/metrics.js';
import { appQueues } from '../../shared/queue/app-queues.js';
import { gatherStatus } from '../../shared/status/status-snapshot.js';

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
  function recorder(): Metrics & { counts: Record<string, number>; kinds: string[] } {
    const counts: Record<string, number> = {};
    const kinds: string[] = [];
    return { counts, kinds, add: (c: MetricName, label?: string, by = 1) => void (counts[counterKey(c, label)] = (counts[counterKey(c, label)] ?? 0) + by), routedAt: (kind) => void kinds.push(kind) };
  }

  it('counts each outcome line once, passes every line on unchanged, and ignores the others', () => {
    const inner = createRecordingLogger();
    const m = recorder();
    const log = countingLogger(inner, m);
    log.info('receive.accepted', { accepted: 3, rejected: 2 });
    log.warn('security.rejections_summary', { items: { client_state_mismatch: 2 }, tokens: { expired: 1 }, omittedLines: 0 });
    log.warn('receive.bad_request', { code: 'unsupported_media_type' });
    log.info('route.routed', { type: 'com.microsoft.graph.teams.chatMessage.created' });
    log.info('route.routed', { type: 'com.microsoft.graph.teams.chat.updated', backfilled: true });
    log.info('route.duplicate_skipped', {});
    log.warn('route.dead_lettered', { reason: 'no_route' });
    log.warn('lifecycle.dead_lettered', { reason: 'malformed_message' });
    log.error('route.poison_dead_lettered', {});
    log.info('subscriptions.reconciled', { created: 4 });
    expect(m.counts).toEqual({
      accepted: 3,
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
    expect(inner.lines.map((l) => l.event)).toHaveLength(10);
    expect(inner.lines[0]).toEqual({ level: 'info', event: 'receive.accepted', fields: { accepted: 3, rejected: 2 } });
  });
});

describe('the status snapshot', () => {
  it('joins the desired subscriptions with their records, counts queues and dead-letter reasons, and masks function keys in errors', async () => {
    const s = await gatherStatus({
      desired: [
        { name: 'all-chats', resource: '/chats' },
        { name: 'never-created', resource: '/chats/getAllMembers' },
      ],
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
      metrics: { read: async (since) => ({ counters: { since: since.getTime() }, lastRouted: { chat: '2026-11-23T11:59:00Z' } }) },
      now: () => new Date('2026-11-23T12:00:00Z'),
    });
    expect(s.subscriptions).toEqual([
      {
        name: 'all-chats',
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
      { name: 'in', role: 'incoming', approximateMessageCount: 4, oldestMessageAgeSeconds: null },
      { name: 'dead', role: 'dead-letter', approximateMessageCount: 3, oldestMessageAgeSeconds: null },
      { name: 'in-poison', role: 'poison', approximateMessageCount: null, oldestMessageAgeSeconds: null },
    ]);
    expect(s.deadLetters).toEqual({ queue: 'dead', waiting: 3, sampled: 3, byReason: { no_route: 2, unknown_certificate: 1 } });
    expect(s.metrics).toEqual({ since: '2026-11-22T12:00:00.000Z', counters: { since: Date.parse('2026-11-22T12:00:00Z') } });
    expect(s.lastRouted).toEqual({ chat: '2026-11-23T11:59:00Z' });
  });
});
