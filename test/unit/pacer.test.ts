import { describe, expect, it } from 'vitest';
import { Pacer } from '../../shared/util/pacer.js';

describe('Pacer', () => {
  it('spaces the slots of one key, and keys apart from each other', () => {
    let now = 1_000_000;
    const pacer = new Pacer(1250, () => now);
    expect([pacer.reserve('a'), pacer.reserve('a'), pacer.reserve('b'), pacer.reserve('a')]).toEqual([0, 1250, 0, 2500]);
    now += 2000;
    expect(pacer.reserve('a')).toBe(1750);
  });

  it('books nothing for a caller that would wait longer than it accepts: the next caller gets the same slot', () => {
    const pacer = new Pacer(1250, () => 0);
    expect(Array.from({ length: 5 }, () => pacer.reserve('chat', 5000))).toEqual([0, 1250, 2500, 3750, 5000]);
    expect(pacer.reserve('chat', 5000)).toBe(6250);
    expect(pacer.reserve('chat', 5000)).toBe(6250);
    expect(pacer.reserve('chat')).toBe(6250);
    expect(pacer.reserve('chat')).toBe(7500);
  });

  it('lets 20 pieces of one chat in one process all run, each one put back when its slot is over 5 s away (as the backfill worker does)', () => {
    let now = 0;
    const pacer = new Pacer(1250, () => now);
    // Every piece arrives at once; one put back comes again when the queue shows it (whole seconds later).
    const arrivals = Array.from({ length: 20 }, (_, piece) => ({ at: 0, piece }));
    const ranAt = new Map<number, number>();
    // Simulated time only: a livelock shows as pieces that have not run after a simulated hour.
    while (arrivals.length > 0 && now < 3_600_000) {
      arrivals.sort((a, b) => a.at - b.at);
      const { at, piece } = arrivals.shift()!;
      now = at;
      const waitMs = pacer.reserve('chat', 5000);
      if (waitMs > 5000) arrivals.push({ at: now + Math.ceil(waitMs / 1000) * 1000, piece });
      else ranAt.set(piece, now + waitMs);
    }
    expect(ranAt.size).toBe(20);
    const runs = [...ranAt.values()].sort((a, b) => a - b);
    for (let i = 1; i < runs.length; i++) expect(runs[i]! - runs[i - 1]!).toBeGreaterThanOrEqual(1250);
    // No slot was booked for a piece put back: the last runs about when 20 paced slots end, not much later.
    expect(runs.at(-1)).toBeLessThan(60_000);
  });
});
