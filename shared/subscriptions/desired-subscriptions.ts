import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InvalidDefinitionError } from '../errors.js';
import { kindNamed } from '../kinds/teams-kinds.js';
import { describeIssues } from '../util/describe-issues.js';
import { checkResource, type CatalogResource } from './resource-catalog.js';

/** One subscription the app should hold in Graph. */
export interface DesiredSubscription {
  /** Stable name: the key of its record, used in logs and the CLI. */
  readonly name: string;
  readonly resource: string;
  readonly changeTypes: readonly string[];
  readonly includeResourceData: boolean;
  /** Complete each reference notification with a GET of its resource before routing (no resource data). */
  readonly hydrate: boolean;
  readonly version: 'v1.0' | 'beta';
  readonly lifetimeMinutes: number;
  readonly catalog: CatalogResource;
  readonly model?: 'A' | 'B';
  /** The file's `tenants` (lower case): the entry applies to these tenants only; absent, to every served tenant. */
  readonly tenants?: readonly string[];
  /** The tenant this subscription lives in (set once the entry is applied to a tenant; absent: the app's own). */
  readonly tenantId?: string;
  /** The file entry's own name (`name` is qualified with the tenant for a tenant other than the app's own). */
  readonly entryName?: string;
}

const entrySchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, dots, hyphens or underscores'),
  resource: z.string().min(2),
  changeTypes: z.array(z.enum(['created', 'updated', 'deleted'])).min(1),
  includeResourceData: z.boolean().default(false),
  hydrate: z.boolean().default(false),
  version: z.enum(['v1.0', 'beta']).default('v1.0'),
  lifetimeMinutes: z.number().int().positive().optional(),
  /** Ignored, accepted so that older files still load: it allowed a resource without `model=` while Teams APIs were metered. */
  evaluationMode: z.boolean().optional(),
  /** The tenants the entry applies to (tenant ids); absent: every tenant the relay serves. */
  tenants: z
    .array(z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a tenant id (GUID)'))
    .min(1)
    .optional(),
});

const fileSchema = z.strictObject({ $schema: z.string().optional(), subscriptions: z.array(entrySchema) });

/** Parses and checks a desired-subscriptions document; throws an InvalidDefinitionError naming every mistake. */
export function parseDesiredSubscriptions(json: unknown, source = 'the subscriptions file'): DesiredSubscription[] {
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidDefinitionError(`${source} is invalid: ${describeIssues(parsed.error.issues, { whole: '(file)' }).join('; ')}`);
  }
  const problems: string[] = [];
  const out: DesiredSubscription[] = [];
  const names = new Set<string>();
  /** Graph holds one subscription per app and chat or channel: which entry took each. */
  const containers = new Map<string, string>();
  parsed.data.subscriptions.forEach((e, i) => {
    const at = `subscriptions[${i}] (${e.name})`;
    if (names.has(e.name)) problems.push(`${at}: the name is used twice`);
    names.add(e.name);
    const check = checkResource(e.resource, e.version);
    for (const p of check.problems) problems.push(`${at}: ${p}`);
    const entry = check.entry;
    if (!entry) return;
    for (const c of e.changeTypes) if (!entry.changeTypes.includes(c)) problems.push(`${at}: changeType ${c} is not supported on this resource (${entry.changeTypes.join(', ')})`);
    if (e.hydrate && e.includeResourceData) problems.push(`${at}: "hydrate" completes notifications without resource data; with "includeResourceData": true there is nothing to complete`);
    const lifetime = e.lifetimeMinutes ?? entry.maxMinutes;
    if (lifetime > entry.maxMinutes) problems.push(`${at}: lifetimeMinutes ${lifetime} is over the maximum of ${entry.maxMinutes}`);
    if (lifetime < 45) problems.push(`${at}: lifetimeMinutes must be at least 45 (Graph raises shorter ones to 45)`);
    const container = containerOf(e.resource, entry);
    const taken = container && containers.get(container);
    if (taken) problems.push(`${at}: Graph allows one subscription per app and chat or channel, and ${taken} already subscribes to the same ${kindNamed(entry.kind).noun}: merge the two entries`);
    else if (container) containers.set(container, e.name);
    out.push({
      name: e.name,
      resource: e.resource,
      changeTypes: [...e.changeTypes],
      includeResourceData: e.includeResourceData,
      hydrate: e.hydrate,
      version: e.version,
      lifetimeMinutes: lifetime,
      catalog: entry,
      ...(check.model ? { model: check.model } : {}),
      ...(e.tenants ? { tenants: e.tenants.map((t) => t.toLowerCase()) } : {}),
    });
  });
  if (problems.length > 0) throw new InvalidDefinitionError(`${source} has ${problems.length} mistake(s):\n  - ${problems.join('\n  - ')}`);
  return out;
}

/** The one chat or channel (and resource kind) a resource is scoped to, if any: `/chats/{id}[/members|/messages]`, a channel's messages. */
function containerOf(resource: string, entry: CatalogResource): string | undefined {
  const path = (resource.split('?', 1)[0] ?? '').toLowerCase();
  const scoped = /^\/chats\/(?!getallm)([^/]+)(?:\/(?:members|messages))?$/.exec(path)?.[1] ?? /^\/teams\/([^/]+\/channels\/[^/]+)\/messages$/.exec(path)?.[1];
  return scoped ? `${entry.kind}:${scoped}` : undefined;
}

export function loadDesiredSubscriptions(path: string): DesiredSubscription[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InvalidDefinitionError(`SUBSCRIPTIONS_FILE ${path} could not be read as JSON: ${(e as Error).message}`);
  }
  return parseDesiredSubscriptions(json, `SUBSCRIPTIONS_FILE ${path}`);
}
