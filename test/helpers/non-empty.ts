import { expect } from 'vitest';

/**
 * `list`, after asserting it holds something: `[].every(…)` is true, so an assertion that every item of a
 * list passes a check would pass on a list that came back empty. Wrap the list: `nonEmpty(events).every(…)`.
 */
export function nonEmpty<T>(list: readonly T[]): readonly T[] {
  expect(list.length, 'a list whose every item is checked must not be empty').toBeGreaterThan(0);
  return list;
}
