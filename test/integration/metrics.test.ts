import { TableClient } from '@azure/data-tables';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf, percentilesOf } from '../../shared/metrics/histogram.js';
import { hourBucket, TableMetrics } from '../../shared/metrics/table-metrics.js';
import { METRICS_WINDOW_HOURS } from '../../shared/status/status-snapshot.js';
import { testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';

let azurite: AzuriteProcess;
beforeAll(async () => {
  azurite = await testAzurite();
});
afterAll(() => azurite?.stop());

/** A table client that counts the requests it sends. */
function countedTable(name: string): { table: TableClient; requests: string[] } {
  const requests: string[] = [];
  const policy: PipelinePolicy = { name: 'count-requests', sendRequest: (req, next) => (requests.push(`${req.method} ${new URL(req.url).pathname}`), next(req)) };
  const table = TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true, additionalPolicies: [{ policy, position: 'perCall' }] });
  return { table, requests };
}

describe('counters in Table storage', () => {
  it('costs one write per flush however many counts were added, none when nothing changed', async () => {
    const name = uniqueName('metrics').replace(/-/g, '');
    const { table, requests } = countedTable(name);
    const metrics = new TableMetrics(table);
    for (let i = 0; i < 1000; i++) metrics.add('accepted');
    metrics.add('rejected', 'client_state_mismatch', 3);
    metrics.routedAt('chatMessage', new Date('2026-11-23T10:00:00Z'));
    expect(requests).toEqual([]);
    await metrics.flush();
    const writes = requests.filter((r) => !r.endsWith('/Tables'));
    expect(writes).toHaveLength(1);
    await metrics.flush();
    expect(requests.filter((r) => !r.endsWith('/Tables'))).toHaveLength(1);
    expect(await metrics.read(new Date(Date.now() - 3_600_000))).toMatchObject({
      counters: { accepted: 1000, 'rejected.client_state_mismatch': 3 },
      histograms: {},
      lastRouted: { chatMessage: '2026-11-23T10:00:00.000Z' },
    });
  });

  it('sums every instance and every hour since the one asked for; a count in a new hour goes to that hour', async () => {
    const name = uniqueName('metrics').replace(/-/g, '');
    let now = new Date('2026-11-23T10:59:59Z');
    const clock = () => now;
    const a = new TableMetrics(countedTable(name).table, { now: clock });
    const b = new TableMetrics(countedTable(name).table, { now: clock });
    a.add('routed', 'chat');
    b.add('routed', 'chat', 2);
    b.routedAt('chat', new Date('2026-11-23T10:59:00Z'));
    now = new Date('2026-11-23T11:00:01Z');
    a.add('routed', 'chat');
    a.add('dead_letters', 'no_route');
    a.routedAt('chat', new Date('2026-11-23T11:00:01Z'));
    await Promise.all([a.flush(), b.flush()]);
    expect(await a.read(new Date('2026-11-23T10:30:00Z'))).toMatchObject({ counters: { 'routed.chat': 4, 'dead_letters.no_route': 1 }, lastRouted: { chat: '2026-11-23T11:00:01.000Z' } });
    const latest = await a.read(new Date('2026-11-23T11:00:00Z'));
    expect(latest).toMatchObject({ counters: { 'routed.chat': 1, 'dead_letters.no_route': 1 }, lastRouted: { chat: '2026-11-23T11:00:01.000Z' } });
    // Each hour's own counts, oldest first, for the status's hourly charts.
    expect((await a.read(new Date('2026-11-23T10:30:00Z'))).hours.map((h) => [h.hour, h.counters['routed.chat']])).toEqual([
      ['2026-11-23T10:00:00.000Z', 3],
      ['2026-11-23T11:00:00.000Z', 1],
    ]);
    expect(hourBucket(now)).toBe('2026112311');
  });

  it("keeps histograms as bucket counts that add up across instances and hours, so percentiles come from every process's values", async () => {
    const name = uniqueName('metrics').replace(/-/g, '');
    let now = new Date('2026-11-23T10:30:00Z');
    const a = new TableMetrics(countedTable(name).table, { now: () => now });
    const b = new TableMetrics(countedTable(name).table, { now: () => now });
    for (const ms of [100, 200, 300]) a.observe('delay_ms', 'chatMessage', ms);
    b.observe('delay_ms', 'chatMessage', 40_000);
    now = new Date('2026-11-23T11:10:00Z');
    a.observe('delay_ms', 'chatMessage', 250);
    a.observe('answer_ms', 'notifications', 12);
    await Promise.all([a.flush(), b.flush()]);
    const totals = await a.read(new Date('2026-11-23T10:00:00Z'));
    const delay = totals.histograms['delay_ms.chatMessage'] ?? [];
    expect(delay.reduce((x, y) => x + y, 0)).toBe(5);
    expect(delay[bucketOf(40_000)]).toBe(1);
    expect(percentilesOf(delay)?.p50).toBeLessThanOrEqual(250);
    expect(percentilesOf(delay)?.p99).toBeGreaterThan(30_000);
    expect(totals.hours.map((h) => Object.keys(h.histograms).sort())).toEqual([['delay_ms.chatMessage'], ['answer_ms.notifications', 'delay_ms.chatMessage']]);
  });

  it('keeps the counts of a flush that failed for the next one', async () => {
    let fail = true;
    const faults: PipelinePolicy = { name: 'fail-once', sendRequest: (req, next) => (fail && req.method === 'PUT' ? Promise.reject(new Error('connection reset')) : next(req)) };
    const table = TableClient.fromConnectionString(azurite.connectionString, uniqueName('metrics').replace(/-/g, ''), {
      allowInsecureConnection: true,
      retryOptions: { maxRetries: 0 },
      additionalPolicies: [{ policy: faults, position: 'perCall' }],
    });
    const metrics = new TableMetrics(table);
    metrics.add('duplicates');
    await expect(metrics.flush()).rejects.toThrow('connection reset');
    fail = false;
    metrics.add('duplicates');
    await metrics.flush();
    expect((await metrics.read(new Date(Date.now() - 3_600_000))).counters).toEqual({ duplicates: 2 });
  });

  it('prunes the hours past the retention, every instance of them, and keeps the hours the status reads', async () => {
    const name = uniqueName('metrics').replace(/-/g, '');
    const { table, requests } = countedTable(name);
    let now = new Date('2026-11-23T10:30:00Z');
    const clock = () => now;
    const write = async (at: string, instances: number) => {
      now = new Date(at);
      for (let i = 0; i < instances; i++) {
        const m = new TableMetrics(table, { now: clock });
        m.add('routed', 'chat');
        await m.flush();
      }
    };
    // 30 days and more ago: the hours to go, 120 instances in the oldest (more than one transaction's 100).
    await write('2026-10-20T08:15:00Z', 120);
    await write('2026-10-24T09:59:59Z', 2);
    // Within 30 days: the hour the cutoff falls in, the next, and the last 24 hours.
    await write('2026-10-24T10:00:00Z', 2);
    await write('2026-10-24T11:10:00Z', 1);
    await write('2026-11-22T10:00:00Z', 1);
    await write('2026-11-22T11:00:00Z', 3);
    await write('2026-11-23T10:05:00Z', 2);
    now = new Date('2026-11-23T10:30:00Z');
    const pruner = new TableMetrics(table, { now: clock });
    const statusSince = new Date(now.getTime() - METRICS_WINDOW_HOURS * 3_600_000);
    const before = await pruner.read(statusSince);
    expect(before.counters).toEqual({ 'routed.chat': 6 });

    requests.length = 0;
    expect(await pruner.prune(30)).toBe(122);
    // One transaction per partition and 100 entities: 100 + 20 in the oldest hour, 2 in the next.
    expect(requests.filter((r) => r.endsWith('/$batch'))).toHaveLength(3);
    const hours = new Map<string, number>();
    for await (const e of table.listEntities<{ partitionKey: string }>()) hours.set(e.partitionKey, (hours.get(e.partitionKey) ?? 0) + 1);
    expect(Object.fromEntries(hours)).toEqual({ '2026102410': 2, '2026102411': 1, '2026112210': 1, '2026112211': 3, '2026112310': 2 });
    expect(await pruner.read(statusSince)).toEqual(before);
    expect((await pruner.read(new Date('2026-10-01T00:00:00Z'))).counters).toEqual({ 'routed.chat': 9 });
    expect(await pruner.prune(30)).toBe(0);

    // The shortest retention, one day, keeps every hour the status reads (from the hour 24 hours ago on).
    expect(await pruner.prune(1)).toBe(3);
    expect(await pruner.read(statusSince)).toEqual(before);
    expect((await pruner.read(new Date('2026-10-01T00:00:00Z'))).counters).toEqual({ 'routed.chat': 6 });
  });

  it('prunes nothing, and creates nothing, when the table does not exist', async () => {
    const name = uniqueName('metrics').replace(/-/g, '');
    const { table, requests } = countedTable(name);
    expect(await new TableMetrics(table).prune(30)).toBe(0);
    expect(requests.some((r) => r.startsWith('POST'))).toBe(false);
  });
});
