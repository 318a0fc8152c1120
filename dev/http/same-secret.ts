import { timingSafeEqual } from 'node:crypto';

/** Whether two secrets (keys, headers) are equal, compared in constant time for equal lengths. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
