import { describe, expect, it } from 'vitest';
import { describeStatus } from '../../cli/status-text.js';
import type { StatusSnapshot } from '../../shared/status/status-snapshot.js';
import { HOME_TENANT, subscriptionRow, tenantRow } from '../helpers/status-rows.js';

const snapshot: StatusSnapshot = {
  generatedAt: '2026-11-23T12:00:00.000Z',
  health: {
    verdict: 'degraded',
    reasons: [{ level: 'degraded', source: 'graph_credential', message: 'The client secret expires in 20 days.', fix: 'Add a new client secret.' }],
  },
  delay: { chat: { p50: 850, p95: 2_400, p99: 180_000, count: 1_234 } },
  answers: { count: 5_000, slow: 3, serverErrors: 1, ms: { p50: 120, p95: 450, p99: 2_950, count: 5_000 } },
  hourly: { hours: [], kinds: {} },
  selfChecks: [{ check: 'graph_credential', status: 'warn', message: 'The client secret expires in 20 days.', fix: 'Add a new client secret.', checkedAt: '2026-11-23T11:58:00.000Z' }],
  tenants: [],
  subscriptions: [],
  queues: [{ name: 'graph-notifications', role: 'incoming', approximateMessageCount: 4, oldestMessageAgeSeconds: 95 }],
  deadLetters: { queue: 'dead', waiting: 0, sampled: 0, byReason: {} },
  lastRouted: { chat: '2026-11-23T11:59:00.000Z' },
  metrics: { since: '2026-11-22T12:00:00.000Z', counters: { accepted: 5_000 } },
};

describe("npm run status's text", () => {
  const text = describeStatus(snapshot);
  const lines = text.split('\n');

  it('puts the verdict and its reasons first', () => {
    expect(lines.slice(0, 3)).toEqual(['Status at 2026-11-23T12:00:00.000Z', '', 'Health: DEGRADED']);
    expect(lines[3]).toMatch(/^level\s+source\s+message\s+fix$/);
    expect(lines[5]).toMatch(/^degraded\s+graph_credential\s+The client secret expires in 20 days\.\s+Add a new client secret\.$/);
    expect(describeStatus({ ...snapshot, health: { verdict: 'healthy', reasons: [] } })).toContain('Health: HEALTHY\nNothing needs attention.\n');
  });

  it('then the delay per kind, the answers and the self-checks, before the tables it always showed', () => {
    const order = [
      'Health:',
      'Delay of live events per kind',
      'Answers to Graph:',
      'Self-checks',
      'Subscriptions (0)',
      'Queues',
      'Dead letters waiting',
      'Last routed event per kind',
      'Counters since',
    ].map((h) => lines.findIndex((l) => l.startsWith(h)));
    expect(order).not.toContain(-1);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(lines).toContainEqual(expect.stringMatching(/^chat\s+850 ms\s+2\.4 s\s+3 min\s+1234$/));
    expect(text).toContain('Answers to Graph: 5,000, slow (over 2,900 ms): 3, 5xx: 1, p95: 450 ms\n');
    expect(lines).toContainEqual(expect.stringMatching(/^graph_credential\s+warn\s+The client secret expires in 20 days\.\s+Add a new client secret\.\s+2026-11-23T11:58:00\.000Z$/));
    expect(lines).toContainEqual(expect.stringMatching(/^graph-notifications\s+incoming\s+4\s+1\.6 min$/));
  });

  it('tables the tenants after the verdict when there are several, each subscription with its tenant', () => {
    const other = 'bbbbbbbb-0000-4000-8000-000000000002';
    const several = describeStatus({
      ...snapshot,
      tenants: [
        tenantRow({ subscriptions: 2, lastDelivery: '2026-11-23T11:59:00.000Z' }),
        tenantRow({
          id: other,
          name: 'Contoso',
          state: 'degraded',
          registered: true,
          quotaUsed: 9_600,
          problem: { code: 'quota', message: "the tenant's Teams subscription quota is used up", at: null },
        }),
      ],
      subscriptions: [subscriptionRow({ name: `chats@${other}`, tenantId: other })],
    });
    const tl = several.split('\n');
    const at = tl.indexOf('Tenants (2)');
    expect(at).toBeGreaterThan(tl.findIndex((l) => l.startsWith('Health:')));
    expect(at).toBeLessThan(tl.findIndex((l) => l.startsWith('Delay of live events')));
    expect(tl[at + 1]).toMatch(/^id\s+name\s+state\s+subscriptions\s+quotaUsed\s+lastDelivery\s+problem$/);
    expect(tl[at + 3]).toMatch(new RegExp(`^${HOME_TENANT}\\s+\\(GRAPH_TENANT_IDS\\)\\s+active\\s+2\\s+2026-11-23T11:59:00\\.000Z$`));
    expect(tl[at + 4]).toMatch(new RegExp(`^${other}\\s+Contoso\\s+degraded\\s+0\\s+9,600 / 10,000\\s+quota: the tenant's Teams subscription quota is used up$`));
    expect(tl).toContainEqual(expect.stringMatching(new RegExp(`^chats@${other}\\s+${other}\\s+/chats$`)));
    expect(text).not.toContain('Tenants (');
  });
});
