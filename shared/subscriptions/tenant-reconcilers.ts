import type { Logger } from '../log.js';
import type { ClientStateUse } from './client-state-fingerprint.js';
import type { DesiredSubscription } from './desired-subscriptions.js';
import type { SubscriptionRecord } from './subscription-records.js';
import type { EntryResult, ReconcileReport, SubscriptionReconciler } from './subscription-reconciler.js';
import type { DesiredSubscriptionSource } from './tenant-desired-subscriptions.js';

/** One tenant's run, whole or failed before its entries (its Graph token refused, its listing throttled). */
export type TenantRun = { readonly tenantId: string; readonly report: ReconcileReport } | { readonly tenantId: string; readonly error: Error };

/** What hears of each tenant's run: the tenant's state in the registry follows it (TenantStates). */
export interface TenantRunObserver {
  observe(run: TenantRun): Promise<void>;
}

export interface TenantReconcileReport extends ReconcileReport {
  readonly tenants: readonly TenantRun[];
}

/**
 * The reconciler of every served tenant: one SubscriptionReconciler per tenant (its Graph client, its lock,
 * its entries), run side by side, so that one tenant's throttling, 403 or missing consent never delays
 * another's. Single-entry work (renew, reconcileOne) goes to the entry's tenant.
 */
export class TenantReconcilers {
  readonly #desired: DesiredSubscriptionSource;
  readonly #make: (tenantId: string, desired: readonly DesiredSubscription[]) => SubscriptionReconciler;
  readonly #made = new Map<string, SubscriptionReconciler>();
  readonly #observer: TenantRunObserver | undefined;
  readonly #logger: Logger;
  readonly #servedTenants: () => readonly string[];

  constructor(options: {
    desired: DesiredSubscriptionSource;
    servedTenants: () => readonly string[];
    make: (tenantId: string, desired: readonly DesiredSubscription[]) => SubscriptionReconciler;
    observer?: TenantRunObserver;
    logger: Logger;
  }) {
    this.#desired = options.desired;
    this.#servedTenants = options.servedTenants;
    this.#make = options.make;
    this.#observer = options.observer;
    this.#logger = options.logger;
  }

  /** Every served tenant's desired subscriptions (at the last read of the registry). */
  get desired(): readonly DesiredSubscription[] {
    return this.#desired.all;
  }

  get source(): DesiredSubscriptionSource {
    return this.#desired;
  }

  /** The reconciler of one tenant (made once). */
  forTenant(tenantId: string): SubscriptionReconciler {
    const key = tenantId.toLowerCase();
    let r = this.#made.get(key);
    if (!r) {
      r = this.#make(key, this.#desired.forTenant(key));
      this.#made.set(key, r);
    }
    return r;
  }

  /** Reconciles every served tenant at once (the registry read again first when stale); one tenant's failure is its own. */
  async reconcile(options: { force?: boolean; tenantId?: string } = {}): Promise<TenantReconcileReport> {
    await this.#desired.refresh();
    const tenants = options.tenantId ? [options.tenantId.toLowerCase()] : this.#servedTenants();
    const runs = await Promise.all(
      tenants.map(async (tenantId): Promise<TenantRun> => {
        let run: TenantRun;
        try {
          run = { tenantId, report: await this.forTenant(tenantId).reconcile(options) };
        } catch (e) {
          this.#logger.error('subscriptions.tenant_failed', { tenantId, error: (e as Error).message });
          run = { tenantId, error: e as Error };
        }
        await this.#observer?.observe(run).catch((e: unknown) => this.#logger.warn('tenants.observe_failed', { tenantId, error: (e as Error).message }));
        return run;
      }),
    );
    const failedTenant = (run: Extract<TenantRun, { error: Error }>) => this.#desired.forTenant(run.tenantId).map((d): EntryResult => ({ name: d.name, action: 'failed', error: run.error.message }));
    return {
      entries: runs.flatMap((r) => ('report' in r ? r.report.entries : failedTenant(r))),
      undesired: runs.flatMap((r) => ('report' in r ? r.report.undesired : [])),
      held: runs.reduce((n, r) => n + ('report' in r ? r.report.held : 0), 0),
      tenants: runs,
    };
  }

  /** Reconciles one entry in its tenant (after subscriptionRemoved, say); an entry of a tenant no longer served is left alone. */
  async reconcileOne(name: string): Promise<EntryResult> {
    const d = await this.#servedEntry(name);
    if (!d) return { name, action: 'skipped', error: 'not a desired subscription of a tenant served' };
    return this.forTenant(d.tenantId ?? '').reconcileOne(name);
  }

  /** Renews one subscription in its tenant (reauthorizationRequired); one of a tenant no longer served is left alone. */
  async renew(record: SubscriptionRecord): Promise<EntryResult> {
    const d = await this.#servedEntry(record.name);
    if (!d) return { name: record.name, action: 'skipped', error: 'not a desired subscription of a tenant served' };
    return this.forTenant(d.tenantId ?? '').renew(record);
  }

  async #servedEntry(name: string): Promise<DesiredSubscription | undefined> {
    await this.#desired.refresh();
    const d = this.#desired.byName(name);
    return d && this.#servedTenants().includes(d.tenantId ?? '') ? d : undefined;
  }

  clientStateOf(record: SubscriptionRecord | undefined): ClientStateUse | undefined {
    const d = record && this.#desired.byName(record.name);
    return d ? this.forTenant(d.tenantId ?? '').clientStateOf(record) : undefined;
  }
}
