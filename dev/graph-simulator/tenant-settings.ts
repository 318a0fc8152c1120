/**
 * How a tenant's administrator configured the app's enterprise application (its service principal in that
 * tenant), as far as it changes what Graph sends.
 */
export interface TenantSettings {
  /**
   * The enterprise application requires user assignment and Graph Change Tracking
   * (GRAPH_CHANGE_TRACKING_APP_ID) holds no role on it: Entra will not issue Change Tracking a token for the
   * app, so Graph sends that tenant's notifications with resource data without their validation token.
   */
  readonly appRoleAssignmentRequired: boolean;
}

export const DEFAULT_TENANT_SETTINGS: TenantSettings = { appRoleAssignmentRequired: false };

/**
 * The settings of each tenant (`sim.tenants.set(tenantId, …)`, or `PATCH /_simulator/tenants/{tenantId}`);
 * a tenant never named has DEFAULT_TENANT_SETTINGS.
 */
export class TenantSettingsRegistry {
  readonly #settings = new Map<string, TenantSettings>();

  constructor(settings: Readonly<Record<string, Partial<TenantSettings>>> = {}) {
    for (const [tenantId, partial] of Object.entries(settings)) this.set(tenantId, partial);
  }

  of(tenantId: string): TenantSettings {
    return this.#settings.get(tenantId.toLowerCase()) ?? DEFAULT_TENANT_SETTINGS;
  }

  /** Changes a tenant's settings (unnamed fields keep their value); answers the whole settings. */
  set(tenantId: string, settings: Partial<TenantSettings>): TenantSettings {
    const next = { ...this.of(tenantId), ...settings };
    this.#settings.set(tenantId.toLowerCase(), next);
    return next;
  }

  /** Whether Graph can put a validation token for this tenant into a delivery. */
  issuesValidationTokens(tenantId: string): boolean {
    return !this.of(tenantId).appRoleAssignmentRequired;
  }
}
