import { RelayError } from '../errors.js';

/** Deeper than any resource Graph sends; far from where the call stack would overflow. */
export const MAX_CANONICAL_DEPTH = 256;

/** A value nested deeper than MAX_CANONICAL_DEPTH: bad input, never worth a retry. */
export class NestingTooDeepError extends RelayError {
  constructor() {
    super('ERR_NESTING_TOO_DEEP', `The JSON is nested deeper than ${MAX_CANONICAL_DEPTH} levels.`, { permanentReason: 'malformed_message' });
  }
}

/** JSON with object keys sorted at every level, so equal content gives equal text whatever the key order. */
export function canonicalJson(value: unknown): string {
  return canonical(value, 0);
}

function canonical(value: unknown, depth: number): string {
  if (depth > MAX_CANONICAL_DEPTH) throw new NestingTooDeepError();
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, depth + 1)).join(',')}]`;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k], depth + 1)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
