import { describe, expect, it } from 'vitest';
import { GRAPH_RETRY_HORIZON_MS, StorageOutageWatch } from '../../shared/receive/storage-outage-watch.js';

const HOUR = 3600_000;

function watch() {
  let now = Date.parse('2026-11-23T00:00:00Z');
  const losses: [string, string][] = [];
  const w = new StorageOutageWatch({ onLoss: async (from, to) => void losses.push([from.toISOString(), to.toISOString()]), now: () => now });
  return { w, losses, advance: (ms: number) => (now += ms) };
}

describe('StorageOutageWatch', () => {
  it("reports nothing for an outage Graph's four hours of retries cover", async () => {
    const { w, losses, advance } = watch();
    w.failed();
    advance(3 * HOUR);
    w.failed();
    advance(HOUR - 1000);
    await w.succeeded();
    expect(w.inOutage).toBe(false);
    expect(losses).toEqual([]);
  });

  it('reports the window Graph gave up on once a longer outage ends: from its start to its end less four hours', async () => {
    const { w, losses, advance } = watch();
    advance(1000);
    w.failed();
    advance(HOUR);
    w.failed(); // later failures do not move the start
    advance(5 * HOUR);
    expect(w.inOutage).toBe(true);
    await w.succeeded();
    expect(losses).toEqual([['2026-11-23T00:00:01.000Z', new Date(Date.parse('2026-11-23T00:00:01.000Z') + 6 * HOUR - GRAPH_RETRY_HORIZON_MS).toISOString()]]);
    await w.succeeded();
    expect(losses).toHaveLength(1);
  });
});
