import type { SubscriptionStatus, TenantStatus } from '../../shared/status/status-snapshot.js';

/** The home tenant of the status fixtures. */
export const HOME_TENANT = 'aaaaaaaa-0000-4000-8000-000000000001';

/** A subscription row of the status: the home tenant's `chats`, never created, but for `over`. */
export const subscriptionRow = (over: Partial<SubscriptionStatus>): SubscriptionStatus => ({
  name: 'chats',
  tenantId: HOME_TENANT,
  resource: '/chats',
  subscriptionId: null,
  expiresAt: null,
  lastRenewedAt: null,
  lastDeliveryAt: null,
  lastAction: null,
  lastError: null,
  clientState: null,
  certificateId: null,
  ...over,
});

/** A tenant row of the status: the home tenant as GRAPH_TENANT_IDS gives it, no registry row, but for `over`. */
export const tenantRow = (over: Partial<TenantStatus>): TenantStatus => ({
  id: HOME_TENANT,
  name: '(GRAPH_TENANT_IDS)',
  state: 'active',
  registered: false,
  subscriptions: 0,
  lastDelivery: null,
  quotaUsed: null,
  quotaLimit: 10_000,
  missingPermissions: [],
  problem: null,
  ...over,
});
