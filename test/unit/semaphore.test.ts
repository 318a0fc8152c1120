import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../shared/util/semaphore.js';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('Semaphore', () => {
  it('never runs more than its slots at once, and serves waiters in arrival order', async () => {
    const s = new Semaphore(2);
    const gates = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    const runs = gates.map((g, i) =>
      s.run(async () => {
        started.push(i);
        peak = Math.max(peak, ++running);
        await g.promise;
        running--;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    gates[1]?.resolve();
    await runs[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.resolve();
    await Promise.all(runs);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
  });

  it('lets a waiter give up its place without taking a slot', async () => {
    const s = new Semaphore(1);
    const gate = deferred();
    const first = s.run(() => gate.promise);
    const controller = new AbortController();
    const abandoned = s.run(async () => 'ran', controller.signal);
    controller.abort(new Error('deadline'));
    await expect(abandoned).rejects.toThrow('deadline');
    gate.resolve();
    await first;
    expect(await s.run(async () => 'free again')).toBe('free again');
  });

  it('frees the slot when the work fails', async () => {
    const s = new Semaphore(1);
    await expect(s.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await s.run(async () => 1)).toBe(1);
  });
});
