import { describe, expect, it } from 'vitest';
import { KeyedLock } from '../../shared/util/keyed-lock.js';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};
/** Lets every settled promise's callbacks run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('KeyedLock', () => {
  it('runs work on one key one at a time, in the order it asked, and work on other keys alongside', async () => {
    const lock = new KeyedLock();
    const gates = [deferred(), deferred(), deferred()];
    const started: string[] = [];
    const work = (name: string, key: string, gate: { promise: Promise<void> }) =>
      lock.run([key], async () => {
        started.push(name);
        await gate.promise;
        return name;
      });
    const runs = [work('a1', 'a', gates[0]!), work('a2', 'a', gates[1]!), work('b1', 'b', gates[2]!)];
    await settle();
    expect(started).toEqual(['a1', 'b1']);
    gates[0]!.resolve();
    await settle();
    expect(started).toEqual(['a1', 'b1', 'a2']);
    gates[1]!.resolve();
    gates[2]!.resolve();
    expect(await Promise.all(runs)).toEqual(['a1', 'a2', 'b1']);
    expect(lock.held('a') || lock.held('b')).toBe(false);
  });

  it('takes several keys in one order, so two callers asking for them in opposite orders both finish', async () => {
    const lock = new KeyedLock();
    const inside: string[] = [];
    const gate = deferred();
    const first = lock.run(['y', 'x'], async () => {
      inside.push('first');
      await gate.promise;
    });
    const second = lock.run(['x', 'y', 'x'], async () => {
      inside.push('second');
    });
    await settle();
    expect(inside).toEqual(['first']);
    gate.resolve();
    await Promise.all([first, second]);
    expect(inside).toEqual(['first', 'second']);
  });

  it('releases the keys when the work fails, and runs work with no key at once', async () => {
    const lock = new KeyedLock();
    await expect(lock.run(['k'], () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(lock.held('k')).toBe(false);
    expect(await lock.run(['k'], () => Promise.resolve('after'))).toBe('after');
    const gate = deferred();
    const holding = lock.run(['k'], () => gate.promise);
    let ran = false;
    await lock.run([], async () => {
      ran = true;
    });
    expect(ran).toBe(true);
    gate.resolve();
    await holding;
  });
});
