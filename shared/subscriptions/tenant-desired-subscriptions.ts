import type { TenantDirectory } from '../tenants/tenant-directory.js';
import type { DesiredSubscription } from './desired-subscriptions.js';

/**
 * The name of an entry applied to a tenant: the file's name in the app's own tenant (as before there were
 * several), `<name>@<tenant id>` in any other. Records, gaps, backfill pieces and status are keyed by it, so two
 * tenants' subscriptions of one entry never share a row.
 */
export function tenantEntryName(entryName: string, tenantId: string, homeTenantId: string): string {
  return tenantId.toLowerCase() === homeTenantId.toLowerCase() ? entryName : `${entryName}@${tenantId.toLowerCase()}`;
}

/** The file entry's name and the tenant of a name tenantEntryName gave (no tenant: the home tenant). */
export function splitTenantEntryName(name: string): { entryName: string; tenantId?: string } {
  const at = name.lastIndexOf('@');
  return at < 0 ? { entryName: name } : { entryName: name.slice(0, at), tenantId: name.slice(at + 1) };
}

/** The desired subscriptions as the reconciler, the backfill and status see them: each file entry applied to each served tenant it names. */
export interface DesiredSubscriptionSource {
  /** The file's entries as written. */
  readonly entries: readonly DesiredSubscription[];
  /** Every entry applied to every tenant served at the last read of the registry, the home tenant's first. */
  readonly all: readonly DesiredSubscription[];
  /** The entry named `name` (tenantEntryName) in its tenant, whether that tenant is served or not. */
  byName(name: string): DesiredSubscription | undefined;
  /** The entries applying to `tenantId`. */
  forTenant(tenantId: string): readonly DesiredSubscription[];
  /** Reads the tenant registry again if its last read is stale. */
  refresh(): Promise<void>;
}

/** The file's entries over the tenants of a TenantDirectory. */
export class TenantDesiredSubscriptions implements DesiredSubscriptionSource {
  readonly entries: readonly DesiredSubscription[];
  readonly #tenants: TenantDirectory;
  readonly #byTenant = new Map<string, readonly DesiredSubscription[]>();

  constructor(entries: readonly DesiredSubscription[], tenants: TenantDirectory) {
    this.entries = entries;
    this.#tenants = tenants;
  }

  get all(): readonly DesiredSubscription[] {
    return this.#tenants.served.flatMap((t) => this.forTenant(t));
  }

  forTenant(tenantId: string): readonly DesiredSubscription[] {
    const key = tenantId.toLowerCase();
    let applied = this.#byTenant.get(key);
    if (!applied) {
      const home = this.#tenants.home;
      applied = this.entries.filter((e) => !e.tenants || e.tenants.includes(key)).map((e) => ({ ...e, name: tenantEntryName(e.name, key, home), entryName: e.name, tenantId: key }));
      this.#byTenant.set(key, applied);
    }
    return applied;
  }

  byName(name: string): DesiredSubscription | undefined {
    const { entryName, tenantId } = splitTenantEntryName(name);
    return this.forTenant(tenantId ?? this.#tenants.home).find((d) => d.entryName === entryName);
  }

  refresh(): Promise<void> {
    return this.#tenants.refresh();
  }
}

/** A fixed list (one tenant, as tests and tools that know their entries give it). */
export function fixedDesiredSubscriptions(entries: readonly DesiredSubscription[]): DesiredSubscriptionSource {
  return {
    entries,
    all: entries,
    byName: (name) => entries.find((d) => d.name === name),
    forTenant: (tenantId) => entries.filter((d) => !d.tenantId || d.tenantId === tenantId.toLowerCase()),
    refresh: () => Promise.resolve(),
  };
}
