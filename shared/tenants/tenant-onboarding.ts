import type { TokenCredential } from '@azure/identity';
import { graphTokenRoles } from '../graph/token-roles.js';
import { LockTimeoutError } from '../subscriptions/blob-lease-lock.js';
import type { Logger } from '../log.js';
import type { DesiredSubscription } from '../subscriptions/desired-subscriptions.js';
import { checkPermissions, requiredPermissions } from '../subscriptions/required-permissions.js';
import type { SubscriptionRecords } from '../subscriptions/subscription-records.js';
import type { DesiredSubscriptionSource } from '../subscriptions/tenant-desired-subscriptions.js';
import type { TenantReconcilers, TenantRun, TenantRunObserver } from '../subscriptions/tenant-reconcilers.js';
import type { TenantDirectory } from './tenant-directory.js';
import { tenantFailureOf, type TenantFailure } from './tenant-problem.js';
import type { TenantRecord, TenantRegistry } from './tenant-registry.js';

export interface TenantOnboardingOptions {
  readonly registry: TenantRegistry;
  readonly tenants: TenantDirectory;
  readonly desired: DesiredSubscriptionSource;
  readonly reconcilers: Pick<TenantReconcilers, 'reconcile' | 'forTenant'>;
  readonly records: Pick<SubscriptionRecords, 'get' | 'save'>;
  /** The tenant's Graph credential; undefined when its token's roles say nothing (the simulator's unsigned tokens). */
  readonly credentialFor?: (tenantId: string) => TokenCredential;
  readonly graphBaseUrl: URL;
  /** Hours of the baseline gap an onboarded tenant gets (0: none), and how a gap is opened. */
  readonly baselineHours: number;
  readonly openGap: (name: string, from: Date, to: Date, logger: Logger) => Promise<unknown>;
  /** Closes the unfinished backfill gaps of these entries (a tenant removed); answers how many. */
  readonly closeGaps: (names: readonly string[], note: string) => Promise<number>;
  readonly now?: () => number;
  readonly logger: Logger;
}

/** How long a tenant's consent stays missing before it is taken as revoked and the tenant offboarded. */
export const CONSENT_GRACE_MS = 3600_000;

/** Who did something, as the registry records it: the CLI's operator, or the relay itself. */
export type Actor = string;

/**
 * A tenant's life with the relay. `add` registers it (onboarding: served from then on) and settles it at once;
 * every reconcile run settles each tenant again (observe): the tenant's token must come (the admin consented),
 * its roles must cover what its subscriptions and backfill need, its subscriptions are created; the first
 * time all this holds, a baseline gap reads back what happened just before, and the tenant is active, or
 * degraded with the cause named. Consent revoked (Entra or Graph refusing the tenant's token) offboards it.
 * `remove` offboards: its subscriptions deleted, its backfill stopped, its notifications refused; its final
 * state is kept.
 */
export class TenantOnboarding implements TenantRunObserver {
  readonly #o: TenantOnboardingOptions;
  readonly #now: () => number;

  constructor(options: TenantOnboardingOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Registers a tenant (or one removed before, again) and settles it: answers its record after. */
  async add(tenantId: string, options: { displayName?: string; by: Actor }): Promise<TenantRecord> {
    const id = tenantId.toLowerCase();
    const at = new Date(this.#now()).toISOString();
    const before = await this.#o.registry.get(id);
    const served = before && before.state !== 'removed' && before.state !== 'offboarding';
    // Removed before: its last removal stays on the record (removedAt, removedBy, purgedAt) for audit.
    const { lastError: _e, lastErrorCode: _c, lastErrorAt: _a, consentLostAt: _l, ...history } = before ?? { tenantId: id };
    await this.#o.registry.save({
      ...(served ? before : history),
      tenantId: id,
      state: served ? before.state : 'onboarding',
      addedAt: served ? before.addedAt : at,
      addedBy: served ? before.addedBy : options.by,
      ...((options.displayName ?? before?.displayName) ? { displayName: options.displayName ?? before?.displayName } : {}),
      updatedAt: at,
    });
    this.#o.logger.info('tenants.added', { tenantId: id, by: options.by });
    await this.#o.tenants.refresh({ force: true });
    await this.#o.reconcilers.reconcile({ tenantId: id, force: true });
    return (await this.#o.registry.get(id))!;
  }

  /** After a tenant's reconcile run: its state, roles, quota and last error follow what the run met. */
  async observe(run: TenantRun): Promise<void> {
    const id = run.tenantId;
    const record = (await this.#o.registry.get(id)) ?? (await this.#configured(id));
    if (!record || record.state === 'offboarding' || record.state === 'removed') return;
    const at = new Date(this.#now()).toISOString();
    if ('error' in run) {
      // Another run (the CLI's add, the timer) held the tenant's lease: it settles the tenant itself.
      if (run.error instanceof LockTimeoutError) return;
      const failure = tenantFailureOf(run.error, 'subscriptions');
      if (failure.consentMissing && record.consentSeenAt && record.state !== 'onboarding') {
        await this.#consentLost(record, failure);
        return;
      }
      await this.#o.registry.update(id, { ...problemFields(failure, at), state: record.state === 'onboarding' ? 'onboarding' : 'degraded' }, new Date(this.#now()));
      return;
    }
    const entries = this.#o.desired.forTenant(id);
    const missing = await this.#missingPermissions(id, entries);
    const failed = run.report.entries.find((e) => e.action === 'failed');
    const failure = missing.failure ?? (failed ? tenantFailureOf(new Error(failed.error ?? 'failed'), 'subscriptions') : undefined);
    const fromError = failed && /missing application permission ([\w.]+(?: or [\w.]+)*)/.exec(failed.error ?? '')?.[1];
    const missingPermissions = missing.permissions.length > 0 ? missing.permissions.join(',') : fromError ? fromError.replace(/ or /g, ',') : undefined;
    const named = failure && (failure.code === 'subscriptions_failed' && /permission/i.test(failure.message) ? { ...failure, code: 'missing_permission' as const } : failure);
    const next: Partial<TenantRecord> = {
      state: named || missingPermissions ? 'degraded' : 'active',
      consentSeenAt: record.consentSeenAt ?? at,
      consentSeenBy: record.consentSeenBy ?? 'reconciler',
      quotaUsed: run.report.held,
      quotaCheckedAt: at,
      missingPermissions,
      ...(missing.roles ? { roles: missing.roles.join(',') } : {}),
      ...(named ? problemFields(named, at) : { lastError: undefined, lastErrorCode: undefined, lastErrorAt: undefined }),
    };
    if (missingPermissions && !named) Object.assign(next, { lastErrorCode: 'missing_permission', lastError: `the tenant's consent lacks ${missingPermissions}`, lastErrorAt: at });
    // The baseline before the tenant leaves onboarding: should opening it fail, the next run opens it again.
    if (record.state === 'onboarding') await this.#baseline(id, entries);
    await this.#o.registry.update(id, { ...next, consentLostAt: undefined }, new Date(this.#now()));
  }

  /** Offboards a tenant: see the class. Throws (leaving it `offboarding`, to run again) when its subscriptions could not be deleted. */
  async remove(tenantId: string, options: { by: Actor; purge?: (tenantId: string, names: readonly string[]) => Promise<void> }): Promise<TenantRecord> {
    const id = tenantId.toLowerCase();
    const at = () => new Date(this.#now());
    const record = (await this.#o.registry.get(id)) ?? (await this.#configured(id)) ?? { tenantId: id, state: 'removed' as const, addedAt: at().toISOString(), updatedAt: at().toISOString() };
    await this.#o.registry.save({ ...record, state: 'offboarding', removedBy: options.by, updatedAt: at().toISOString() });
    await this.#o.tenants.refresh({ force: true });
    let deleted: string[] = [];
    try {
      deleted = await this.#o.reconcilers.forTenant(id).removeAll();
    } catch (e) {
      const failure = tenantFailureOf(e, 'subscriptions');
      // Without consent Graph itself removed the app's subscriptions there: nothing is left to delete.
      if (!failure.consentMissing) {
        await this.#o.registry.update(id, problemFields(failure, at().toISOString()), at());
        throw e;
      }
    }
    const names = this.#o.desired.forTenant(id).map((d) => d.name);
    const closed = await this.#o.closeGaps(names, 'the tenant was removed');
    // A purge reads the records (their subscription ids name the delivery rows) and deletes them.
    if (options.purge) await options.purge(id, names);
    else {
      // Its records point at nothing from now on: added again, its subscriptions are new ones, not replacements
      // of these (whose windows without subscription would read back the whole time it was away).
      for (const name of names) {
        const r = await this.#o.records.get(name);
        if (r) await this.#o.records.save({ name, resource: r.resource, changeTypes: r.changeTypes, lastAction: 'removed', updatedAt: at().toISOString() });
      }
    }
    this.#o.logger.warn('tenants.removed', { tenantId: id, by: options.by, subscriptionsDeleted: deleted.length, gapsClosed: closed, purged: options.purge !== undefined });
    return (await this.#o.registry.update(id, { state: 'removed', removedAt: at().toISOString(), removedBy: options.by, ...(options.purge ? { purgedAt: at().toISOString() } : {}) }, at()))!;
  }

  /**
   * Finishes every removal left `offboarding` (the CLI could not delete the tenant's subscriptions: no
   * credential of the app in the operator's shell, Graph failing): the app's own run deletes them and closes
   * the tenant's gaps. Each tenant on its own: one failing is logged and tried again next run.
   */
  async finishOffboarding(): Promise<void> {
    for (const r of (await this.#o.registry.list()).filter((t) => t.state === 'offboarding')) {
      await this.remove(r.tenantId, { by: r.removedBy ?? 'reconciler' }).catch((e: unknown) =>
        this.#o.logger.error('tenants.offboarding_failed', { tenantId: r.tenantId, error: (e as Error).message }),
      );
    }
  }

  /** A tenant of GRAPH_TENANT_IDS the registry does not hold yet: recorded as active, so that it lists like the others. */
  async #configured(tenantId: string): Promise<TenantRecord | undefined> {
    if (!this.#o.tenants.has(tenantId)) return undefined;
    const at = new Date(this.#now()).toISOString();
    const record: TenantRecord = { tenantId, state: 'active', addedAt: at, addedBy: 'GRAPH_TENANT_IDS', updatedAt: at };
    await this.#o.registry.save(record);
    return record;
  }

  /** The roles of the tenant's token against what its entries need (nothing to say without a credential whose token tells). */
  async #missingPermissions(tenantId: string, entries: readonly DesiredSubscription[]): Promise<{ permissions: string[]; roles?: string[]; failure?: TenantFailure }> {
    if (!this.#o.credentialFor || entries.length === 0) return { permissions: [] };
    try {
      const roles = await graphTokenRoles(this.#o.credentialFor(tenantId), this.#o.graphBaseUrl);
      return { permissions: [...checkPermissions(requiredPermissions(entries, { backfill: true }), roles).toGrant], roles };
    } catch (e) {
      return { permissions: [], failure: tenantFailureOf(e, 'token') };
    }
  }

  /** The first settling of an onboarded tenant: what happened in the hours before each of its subscriptions was created is read back. */
  async #baseline(tenantId: string, entries: readonly DesiredSubscription[]): Promise<void> {
    if (this.#o.baselineHours <= 0) return;
    for (const d of entries) {
      const r = await this.#o.records.get(d.name);
      const since = r?.subscribedAt ?? r?.updatedAt;
      if (!r?.subscriptionId || !since) continue;
      const to = new Date(since);
      await this.#o.openGap(d.name, new Date(to.getTime() - this.#o.baselineHours * 3600_000), to, this.#o.logger);
    }
    this.#o.logger.info('tenants.baseline_opened', { tenantId, hours: this.#o.baselineHours });
  }

  /**
   * The tenant's consent is gone (Entra refuses its token, or Graph a token without roles). Degraded at first;
   * still gone an hour later, the tenant is offboarded (consent revoked). A tenant of GRAPH_TENANT_IDS is never
   * removed so: it stays degraded, naming the cause, until its consent is back or the setting changes.
   */
  async #consentLost(record: TenantRecord, failure: TenantFailure): Promise<void> {
    const now = new Date(this.#now());
    const lostAt = record.consentLostAt ?? now.toISOString();
    const revoked = { lastErrorCode: 'consent_revoked' as const, lastError: failure.message, lastErrorAt: now.toISOString() };
    const configured = this.#o.tenants.configured.includes(record.tenantId);
    if (configured || now.getTime() - Date.parse(lostAt) < CONSENT_GRACE_MS) {
      this.#o.logger.warn('tenants.consent_lost', { tenantId: record.tenantId, since: lostAt, error: failure.message });
      await this.#o.registry.update(record.tenantId, { ...revoked, state: 'degraded', consentLostAt: lostAt }, now);
      return;
    }
    this.#o.logger.error('tenants.consent_revoked', { tenantId: record.tenantId, since: lostAt, error: failure.message });
    await this.remove(record.tenantId, { by: 'consent revoked' });
    await this.#o.registry.update(record.tenantId, revoked, new Date(this.#now()));
  }
}

function problemFields(failure: TenantFailure, at: string): Partial<TenantRecord> {
  return { lastErrorCode: failure.code, lastError: failure.message, lastErrorAt: at };
}
