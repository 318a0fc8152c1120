import { describe, expect, it } from 'vitest';
import { escapeHtml, renderStatusPage } from '../../shared/status/status-page.js';
import { type StatusSnapshot } from '../../shared/status/status-snapshot.js';

const snapshot = (over: Partial<StatusSnapshot> = {}): StatusSnapshot => ({
  generatedAt: '2026-11-23T12:00:00.000Z',
  health: { verdict: 'healthy', reasons: [] },
  delay: {},
  answers: { count: 0, slow: 0, serverErrors: 0, ms: null },
  hourly: { hours: [], kinds: {} },
  selfChecks: [],
  subscriptions: [],
  queues: [],
  deadLetters: { queue: 'dead', waiting: 0, sampled: 0, byReason: {} },
  lastRouted: {},
  metrics: { since: '2026-11-22T12:00:00.000Z', counters: {} },
  ...over,
});

describe('the status page', () => {
  it('escapes every value it shows', () => {
    const html = renderStatusPage(
      snapshot({
        subscriptions: [
          {
            name: '<script>alert(1)</script>',
            resource: `/chats?x="'&`,
            subscriptionId: null,
            expiresAt: null,
            lastRenewedAt: null,
            lastDeliveryAt: null,
            lastAction: 'failed',
            lastError: '<img src=x onerror=alert(1)>',
            clientState: null,
            certificateId: null,
          },
        ],
        deadLetters: { queue: 'dead', waiting: 1, sampled: 1, byReason: { '<b>': 1 } },
      }),
    );
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).toContain('/chats?x=&#34;&#39;&#38;');
    expect(escapeHtml(`<>&"'`)).toBe('&#60;&#62;&#38;&#34;&#39;');
  });

  it('says what needs attention in its first lines', () => {
    const html = renderStatusPage(snapshot({ deadLetters: { queue: 'dead', waiting: 3, sampled: 3, byReason: { no_route: 3 } } }));
    expect(html).toContain('3 dead letters waiting');
    expect(renderStatusPage(snapshot())).toContain('no dead letter waiting');
  });
});
