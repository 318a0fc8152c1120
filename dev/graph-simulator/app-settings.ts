/** What the app needs to know of a running simulator. */
export interface SimulatorEndpoints {
  readonly baseUrl: string;
  readonly jwksUrl: string;
  readonly appId: string;
  readonly tenantId: string;
}

/**
 * The app settings that point the app at a simulator instead of Microsoft Graph and Entra ID: its Graph, its
 * token signing keys, its tenant and app id, simulator tokens; with `hostUrl`, the notification and lifecycle
 * URLs the app gives Graph for subscriptions (the host's `/api/notifications` and `/api/lifecycle`). The one
 * place tests, the chaos run and the benchmarks build these settings.
 */
export function simulatorAppSettings(sim: SimulatorEndpoints, hostUrl?: string): Record<string, string> {
  return {
    GRAPH_BASE_URL: sim.baseUrl,
    GRAPH_JWKS_URL: sim.jwksUrl,
    GRAPH_AUTH_MODE: 'simulator',
    GRAPH_APP_ID: sim.appId,
    GRAPH_TENANT_IDS: sim.tenantId,
    ...(hostUrl === undefined ? {} : { GRAPH_NOTIFICATION_URL: `${hostUrl}/api/notifications`, GRAPH_LIFECYCLE_URL: `${hostUrl}/api/lifecycle` }),
  };
}
