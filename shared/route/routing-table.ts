import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InvalidDefinitionError } from '../errors.js';
import { describeIssues } from '../util/describe-issues.js';
import { DEFAULT_QUEUES, KIND_NAMES } from '../kinds/teams-kinds.js';
import type { TeamsCloudEvent } from './teams-event.js';

const QUEUE = z.string().regex(/^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'must be a queue name (3-63 lowercase letters, digits, single hyphens)');
const oneOrMany = <T extends z.ZodType>(t: T) => z.union([t, z.array(t).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.infer<T>[]);

const ruleSchema = z
  .strictObject({
    match: z
      .strictObject({
        kind: oneOrMany(z.enum(KIND_NAMES)).optional(),
        changeType: oneOrMany(z.enum(['created', 'updated', 'deleted'])).optional(),
        tenantId: oneOrMany(z.string().min(1)).optional(),
        subscriptionId: oneOrMany(z.string().min(1)).optional(),
        resource: z.string().min(1).optional(),
      })
      .default({}),
    queues: z.array(QUEUE).min(1).optional(),
    drop: z.literal(true).optional(),
  })
  .refine((r) => (r.queues ? !r.drop : r.drop === true), { message: 'a route needs either "queues" (one or more) or "drop": true' });

const fileSchema = z.strictObject({
  defaultRoutes: z.boolean().default(true),
  routes: z.array(ruleSchema).default([]),
});

export type RoutingRule = z.infer<typeof ruleSchema>;

export type RouteDecision =
  { readonly action: 'send'; readonly queues: readonly string[]; readonly rule: number | 'default' } | { readonly action: 'drop'; readonly rule: number } | { readonly action: 'none' };

/** `*` matches any run of characters; everything else literally, case-insensitively. */
function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
}

/**
 * Where events go: the first rule whose every condition matches decides (its queues, or drop); otherwise
 * the default queue of the event's kind, unless defaults are turned off (then there is no route).
 */
export class RoutingTable {
  readonly #rules: { rule: RoutingRule; resource?: RegExp }[];
  readonly #defaults: boolean;

  constructor(rules: readonly RoutingRule[] = [], defaultRoutes = true) {
    this.#rules = rules.map((rule) => ({ rule, ...(rule.match.resource ? { resource: globToRegExp(rule.match.resource) } : {}) }));
    this.#defaults = defaultRoutes;
  }

  route(event: Pick<TeamsCloudEvent, 'kind' | 'changetype' | 'tenantid' | 'subscriptionid' | 'subject'>): RouteDecision {
    for (const [i, { rule, resource }] of this.#rules.entries()) {
      const m = rule.match;
      if (m.kind && !m.kind.includes(event.kind)) continue;
      if (m.changeType && !m.changeType.includes(event.changetype as 'created')) continue;
      if (m.tenantId && !m.tenantId.some((t) => t.toLowerCase() === event.tenantid.toLowerCase())) continue;
      if (m.subscriptionId && !m.subscriptionId.includes(event.subscriptionid)) continue;
      if (resource && !resource.test(event.subject)) continue;
      return rule.drop ? { action: 'drop', rule: i } : { action: 'send', queues: rule.queues ?? [], rule: i };
    }
    return this.#defaults ? { action: 'send', queues: [DEFAULT_QUEUES[event.kind]], rule: 'default' } : { action: 'none' };
  }

  /** Every queue a route can send to. */
  get queues(): string[] {
    return [...new Set([...(this.#defaults ? Object.values(DEFAULT_QUEUES) : []), ...this.#rules.flatMap((r) => r.rule.queues ?? [])])];
  }
}

/** Reads and validates a routing file; throws an InvalidDefinitionError whose message names each mistake. */
export function loadRoutingTable(path: string): RoutingTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InvalidDefinitionError(`ROUTES_FILE ${path} could not be read as JSON: ${(e as Error).message}`);
  }
  return parseRoutingTable(text, path);
}

/** Validates a routing file's text (`source` names it in messages); throws an InvalidDefinitionError naming each mistake. */
export function parseRoutingTable(text: string, source: string): RoutingTable {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InvalidDefinitionError(`ROUTES_FILE ${source} could not be read as JSON: ${(e as Error).message}`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidDefinitionError(`ROUTES_FILE ${source} is invalid: ${describeIssues(parsed.error.issues, { whole: '(file)' }).join('; ')}`);
  }
  return new RoutingTable(parsed.data.routes, parsed.data.defaultRoutes);
}
