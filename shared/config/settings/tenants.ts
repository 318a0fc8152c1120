import { settingsArea } from './define.js';
import { tableName, wholeNumber } from './validators.js';

export interface TenantSettings {
  readonly tenants: {
    /** The tenant registry (docs/tenants.md). */
    readonly table: string;
    /** How far back an onboarded tenant's baseline gap reads (hours before its subscriptions were created). */
    readonly baselineHours: number;
  };
}

const TENANT_SETTINGS = {
  TENANTS_TABLE: {
    default: 'tenants',
    description: 'Table of the tenant registry: each customer tenant the relay serves, its state and last error (`npm run tenants`, docs/tenants.md).',
    read: tableName,
  },
  TENANT_BASELINE_HOURS: {
    default: '24',
    description: 'Onboarding a tenant opens a backfill gap of this many hours before its subscriptions were created (0: none), so what happened just before reaches downstream too.',
    read: wholeNumber(0, 24 * 30),
  },
};

/** The customer tenants a multi-tenant relay serves (docs/tenants.md). */
export const tenantSettings = settingsArea(TENANT_SETTINGS, {
  slice: (v): TenantSettings => ({ tenants: { table: v.TENANTS_TABLE, baselineHours: v.TENANT_BASELINE_HOURS } }),
});
