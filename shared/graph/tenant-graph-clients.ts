import type { TokenCredential } from '@azure/identity';
import { GraphClient, type GraphClientOptions } from './graph-client.js';
import type { TenantCredentials } from './tenant-credentials.js';

/** A Graph client per tenant, each with that tenant's credential: made on first use and reused. */
export class TenantGraphClients {
  readonly #credentials: TenantCredentials;
  readonly #options: Omit<GraphClientOptions, 'credential'>;
  readonly #made = new Map<string, GraphClient>();

  constructor(credentials: TenantCredentials, options: Omit<GraphClientOptions, 'credential'>) {
    this.#credentials = credentials;
    this.#options = options;
  }

  get homeTenantId(): string {
    return this.#credentials.homeTenantId;
  }

  /** The credential of `tenantId` (its token's roles tell what its admin consented). */
  credentialFor(tenantId: string): TokenCredential {
    return this.#credentials.forTenant(tenantId.toLowerCase());
  }

  /** The client acting in `tenantId`; throws (HomeTenantOnlyCredentialError) when GRAPH_AUTH_MODE cannot serve that tenant. */
  forTenant(tenantId: string): GraphClient {
    const key = tenantId.toLowerCase();
    let client = this.#made.get(key);
    if (!client) {
      client = new GraphClient({ ...this.#options, credential: this.#credentials.forTenant(key) });
      this.#made.set(key, client);
    }
    return client;
  }
}
