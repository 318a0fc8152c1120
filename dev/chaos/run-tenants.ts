import { tenantEntryName } from '../../shared/subscriptions/tenant-desired-subscriptions.js';
import type { TenantRegistry } from '../../shared/tenants/tenant-registry.js';
import { DESIRED } from './chaos-config.js';
import { activeSubscriptions, type Driver } from './driver.js';

/**
 * The tenants a chaos run acts in, the simulator's default tenant (the app's home tenant, its GRAPH_TENANT_IDS)
 * first, then those the run added (`--tenants N`). Ids in lower case, as the app keys them.
 */
export interface RunTenants {
  readonly home: string;
  readonly ids: readonly string[];
}

/** The added tenants' ids: fixed, so that a replay of a seed names the same tenants. */
const addedTenantId = (n: number) => `c4a05000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/**
 * Adds tenant number `n` (1, 2, …) as a customer would: the simulator gets the tenant, its admin consents the
 * app with the permissions the app holds in the default tenant (what the desired subscriptions need), and the
 * tenant is registered with the app as `onboarding` (as `npm run tenants -- add` records it), for the app's
 * reconciler to settle: its subscriptions created within a reconcile run.
 */
export async function addRunTenant(driver: Driver, registry: TenantRegistry, appId: string, n: number): Promise<string> {
  const displayName = `Chaos tenant ${n + 1}`;
  const { id } = await driver.call<{ id: string }>('POST', '/tenants', { id: addedTenantId(n), displayName });
  const { permissions } = await driver.call<{ permissions: string[] }>('GET', `/apps/${encodeURIComponent(appId)}/grants`);
  await driver.call('POST', `/tenants/${id}/consent`, { appId, permissions });
  const tenantId = id.toLowerCase();
  const at = new Date().toISOString();
  await registry.save({ tenantId, displayName, state: 'onboarding', addedAt: at, addedBy: 'chaos', updatedAt: at });
  return tenantId;
}

/**
 * The desired subscription a plan's index names, with twice (N times) the subscriptions when the run has two
 * (N) tenants: index i is entry `i % DESIRED.length` in the run's tenant `⌊i / DESIRED.length⌋`.
 */
export function desiredAt(index: number, tenants: RunTenants): { readonly tenantId: string; readonly resource: string; readonly name: string } {
  const entry = DESIRED[index % DESIRED.length]!;
  const tenantId = tenants.ids[Math.floor(index / DESIRED.length) % tenants.ids.length]!;
  return { tenantId, resource: entry.resource, name: tenantEntryName(entry.name, tenantId, tenants.home) };
}

/** The id of Graph's subscription of the plan's index `index` in its tenant, if it exists. */
export async function subscriptionAt(driver: Driver, index: number, tenants: RunTenants): Promise<string | undefined> {
  const wanted = desiredAt(index, tenants);
  return (await activeSubscriptions(driver, wanted.tenantId)).find((s) => s.resource === wanted.resource)?.id;
}

/** The desired subscriptions Graph does not hold, by the names the app gives them (`<name>@<tenant>` outside the home tenant). */
export async function missingSubscriptions(driver: Driver, tenants: RunTenants): Promise<string[]> {
  const missing: string[] = [];
  for (const tenantId of tenants.ids) {
    const active = new Set((await activeSubscriptions(driver, tenantId)).map((s) => s.resource));
    for (const d of DESIRED) if (!active.has(d.resource)) missing.push(tenantEntryName(d.name, tenantId, tenants.home));
  }
  return missing;
}
