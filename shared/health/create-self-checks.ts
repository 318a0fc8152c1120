import type { Gap } from '../backfill/gap-log.js';
import type { CertificateStore } from '../certificates/certificate-store.js';
import type { Settings } from '../config/settings.js';
import { createGraphCredential } from '../graph/graph-credential.js';
import type { MetricTotals } from '../metrics/metrics.js';
import type { SubscriptionRecord } from '../subscriptions/subscription-records.js';
import type { DesiredSubscriptionSource } from '../subscriptions/tenant-desired-subscriptions.js';
import type { TenantRecord } from '../tenants/tenant-registry.js';
import { backfillGapsCheck } from './checks/backfill-gaps.js';
import { encryptionCertificateCheck } from './checks/encryption-certificate.js';
import { graphCredentialCheck } from './checks/graph-credential.js';
import { graphPermissionsCheck } from './checks/graph-permissions.js';
import { silentSubscriptionsCheck } from './checks/silent-subscriptions.js';
import { subscriptionsCheck } from './checks/subscriptions.js';
import { tenantsCheck } from './checks/tenants.js';
import { validationTokensCheck } from './checks/validation-tokens.js';
import type { SelfCheck } from './self-check.js';

/** What the self-checks read: the relay's own stores. */
export interface StoreSources {
  /** The desired subscriptions applied to each served tenant. */
  readonly desired: DesiredSubscriptionSource;
  /** The tenants served and the registry's records (a TenantDirectory). */
  readonly tenants: { readonly home: string; refresh(): Promise<void>; readonly served: readonly string[]; readonly records: readonly TenantRecord[] };
  readonly records: { list(): Promise<readonly SubscriptionRecord[]> };
  readonly deliveries: { lastDeliveries(): Promise<ReadonlyMap<string, string>> };
  readonly gaps: { list(filter: { unfinished: true }): Promise<readonly Gap[]> };
  readonly metrics: { read(since: Date): Promise<MetricTotals> };
}

/** What the self-checks that look beyond storage read: Key Vault (or the local folder) and Graph. */
export interface OutsideSources {
  readonly certificates: Pick<CertificateStore, 'current'>;
  /** GETs a Graph path with the app's own client. */
  graphGet<T>(path: string): Promise<T>;
}

/**
 * The self-checks that read only the relay's own storage: cheap, so status runs them afresh on every read
 * (a subscription created a second ago is not reported missing for five minutes). Those of subscriptions see
 * every served tenant's (the desired entries applied to each, read again when stale).
 */
export function storeSelfChecks(settings: Settings, s: StoreSources): SelfCheck[] {
  return [
    subscriptionsCheck({
      desired: s.desired,
      records: s.records,
      renewWithinMinutes: settings.renewWithinMinutes,
      judged: (tenantId) => tenantId === s.tenants.home || !['onboarding', 'degraded'].includes(s.tenants.records.find((r) => r.tenantId === tenantId)?.state ?? 'active'),
    }),
    validationTokensCheck(s.metrics, settings.tenantIds),
    silentSubscriptionsCheck({ desired: s.desired, records: s.records, deliveries: s.deliveries, silentHours: settings.health.silentSubscriptionHours }),
    backfillGapsCheck({ gaps: s.gaps, openMinutes: settings.health.gapOpenMinutes }),
    tenantsCheck({ tenants: s.tenants }),
  ];
}

/** Every self-check, as the checkHealth timer runs them: the store's and those that ask Key Vault, Entra ID and Graph. */
export function allSelfChecks(settings: Settings, s: StoreSources & OutsideSources): SelfCheck[] {
  return [
    encryptionCertificateCheck(s.certificates),
    graphCredentialCheck({ auth: settings.graphAuth, appId: settings.appId, get: (path) => s.graphGet(path) }),
    // The app's own token is the home tenant's: it is judged against the entries that apply there.
    graphPermissionsCheck({ auth: settings.graphAuth, desired: s.desired.forTenant(s.tenants.home), credential: createGraphCredential(settings), graphBaseUrl: settings.graphBaseUrl }),
    ...storeSelfChecks(settings, s),
  ];
}
