/** Each unit, its size in milliseconds and how many of it make the next. */
const UNITS: readonly (readonly [name: string, size: number, next: number])[] = [
  ['ms', 1, 1000],
  ['s', 1000, 60],
  ['min', 60_000, 60],
  ['h', 3_600_000, 24],
  ['d', 86_400_000, Infinity],
];

/**
 * A duration as a person reads it: `850 ms`, `2.4 s`, `12 s`, `3 min`, `1.5 h`, `2 d`. Below 10 of a unit
 * (other than ms) one decimal, above it whole numbers; a value that rounds up to the next unit is shown in it.
 */
export function formatMilliseconds(ms: number): string {
  const value = Math.max(0, ms);
  for (const [name, size, next] of UNITS) {
    const n = value / size;
    const rounded = name !== 'ms' && n < 10 ? Math.round(n * 10) / 10 : Math.round(n);
    if (rounded < next) return `${rounded} ${name}`;
  }
  throw new Error('unreachable: the last unit has no next');
}
