import { odata, type TableClient } from '@azure/data-tables';
import { restStatus } from '../errors.js';
import { maskSecrets } from '../util/mask-secrets.js';
import { tableOnce } from '../util/table-once.js';

/**
 * Where a tenant is in its life with the relay. `onboarding`, `active` and `degraded` are served (their
 * notifications accepted, their subscriptions kept); `offboarding` and `removed` are not.
 */
export type TenantState = 'onboarding' | 'active' | 'degraded' | 'offboarding' | 'removed';

export const SERVED_STATES: readonly TenantState[] = ['onboarding', 'active', 'degraded'];

/** Why a tenant is not (fully) served, stable for scripts and alerts. */
export type TenantProblem = 'no_consent' | 'consent_revoked' | 'missing_permission' | 'protected_api' | 'quota' | 'token_failed' | 'subscriptions_failed';

/** One customer tenant the relay serves, or served (a removed tenant's row is kept for audit). */
export interface TenantRecord {
  /** Lower case. */
  readonly tenantId: string;
  readonly displayName?: string;
  readonly state: TenantState;
  readonly addedAt: string;
  /** Who added it: the operator's account as the CLI saw it. */
  readonly addedBy?: string;
  /** When the relay first got a Graph token in the tenant: the admin's consent was in place. */
  readonly consentSeenAt?: string;
  /** Who saw it (the CLI's operator, or `reconciler`). */
  readonly consentSeenBy?: string;
  /** The application permissions (roles) the tenant's token carried at the last check, comma-separated. */
  readonly roles?: string;
  /** The permissions the desired subscriptions need that the token lacks, comma-separated. */
  readonly missingPermissions?: string;
  readonly lastError?: string;
  readonly lastErrorCode?: TenantProblem;
  readonly lastErrorAt?: string;
  /** When the tenant's consent was first found missing after it had been seen (cleared once it is back): removed after an hour of it. */
  readonly consentLostAt?: string;
  /** The app's Teams subscriptions in the tenant at the last reconcile (Teams allows 10,000 per tenant, every app's together). */
  readonly quotaUsed?: number;
  readonly quotaCheckedAt?: string;
  readonly removedAt?: string;
  readonly removedBy?: string;
  /** When `remove --purge` deleted its records, de-duplication rows and payloads. */
  readonly purgedAt?: string;
  readonly updatedAt: string;
}

const PARTITION = 'tenant';

/** The tenant registry (TENANTS_TABLE, partition `tenant`, row = tenant id). */
export class TenantRegistry {
  readonly #table: TableClient;
  readonly #ensure: () => Promise<void>;

  constructor(table: TableClient) {
    this.#table = table;
    this.#ensure = tableOnce(table);
  }

  async get(tenantId: string): Promise<TenantRecord | undefined> {
    await this.#ensure();
    try {
      return fromEntity(await this.#table.getEntity<Record<string, unknown>>(PARTITION, tenantId.toLowerCase()));
    } catch (e) {
      if (restStatus(e) === 404) return undefined;
      throw e;
    }
  }

  async list(): Promise<TenantRecord[]> {
    await this.#ensure();
    const out: TenantRecord[] = [];
    for await (const e of this.#table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${PARTITION}` } })) out.push(fromEntity(e));
    return out.sort((a, b) => a.addedAt.localeCompare(b.addedAt) || a.tenantId.localeCompare(b.tenantId));
  }

  /** Writes the whole record (fields left out are removed). */
  async save(record: TenantRecord): Promise<void> {
    await this.#ensure();
    const { tenantId, ...fields } = record;
    const entity: Record<string, unknown> = { partitionKey: PARTITION, rowKey: tenantId.toLowerCase() };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) entity[k] = v;
    // Entra's and Graph's errors can quote URLs with keys; `tenants list` and the status page show what is stored.
    if (typeof entity.lastError === 'string') entity.lastError = maskSecrets(entity.lastError);
    await this.#table.upsertEntity(entity as { partitionKey: string; rowKey: string }, 'Replace');
  }

  /**
   * Changes some fields of a tenant's record (`undefined` removes one); does nothing for an unknown tenant.
   * A tenant offboarding or removed is never brought back to a served state here (only `save` does, as `add`
   * does): a reconcile run that read the tenant as served before it was removed must not serve it again.
   */
  async update(tenantId: string, change: Partial<Omit<TenantRecord, 'tenantId'>>, now: Date): Promise<TenantRecord | undefined> {
    const current = await this.get(tenantId);
    if (!current) return undefined;
    if (!SERVED_STATES.includes(current.state) && change.state !== undefined && SERVED_STATES.includes(change.state)) return current;
    const next = { ...current, ...change, updatedAt: now.toISOString() } as TenantRecord;
    await this.save(next);
    return next;
  }
}

function fromEntity(e: Record<string, unknown>): TenantRecord {
  const { partitionKey: _p, rowKey, etag: _e, timestamp: _t, ...rest } = e;
  return { tenantId: String(rowKey), ...(rest as Omit<TenantRecord, 'tenantId'>) };
}
