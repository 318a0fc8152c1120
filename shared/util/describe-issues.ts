import type { z } from 'zod';

export interface DescribeIssuesOptions {
  /** What an issue about the whole document is said of, e.g. `(file)`. */
  readonly whole: string;
  /** Path segments every issue's path is under, e.g. `['value', 3]` for the fourth item of a collection. */
  readonly prefix?: readonly PropertyKey[];
  /** Said instead of zod's "expected …, received undefined" for a value that is missing; zod's text if absent. */
  readonly missing?: string;
}

/** A path as written in JavaScript: `routes[0].match.kind`; empty for the whole document. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** One readable line per zod issue: `routes[1].queues[0]: <zod's message>`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], options: DescribeIssuesOptions): string[] {
  const { whole, prefix = [], missing } = options;
  return issues.map((issue) => {
    const isMissing = missing !== undefined && issue.code === 'invalid_type' && issue.message.endsWith('received undefined');
    return `${issuePath([...prefix, ...issue.path]) || whole}: ${isMissing ? missing : issue.message}`;
  });
}
