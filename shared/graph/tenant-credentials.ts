import { readFileSync } from 'node:fs';
import { ClientAssertionCredential, ClientCertificateCredential, ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import type { CertificateSettings, GraphSettings, ReceiveSettings } from '../config/settings.js';
import { RelayError } from '../errors.js';
import { isLoopbackUrl } from '../util/loopback-url.js';
import { simulatorCredential } from './simulator-credential.js';

/** What the credentials are made from: GRAPH_AUTH_MODE and its settings, the app's id, its tenants and its managed identity. */
export type TenantCredentialSettings = GraphSettings & Pick<ReceiveSettings, 'appId' | 'tenantIds'> & Pick<CertificateSettings, 'azureClientId'>;

/**
 * A Graph token was asked for in another tenant than the app's own with a credential that only holds the own
 * one: a managed identity (or DefaultAzureCredential, which in Azure is one) lives in a single tenant and
 * Entra issues it tokens of that tenant alone.
 */
export class HomeTenantOnlyCredentialError extends RelayError {
  readonly mode: string;
  readonly tenantId: string;

  constructor(mode: string, tenantId: string, homeTenantId: string) {
    super(
      'ERR_GRAPH_CREDENTIAL_HOME_TENANT_ONLY',
      `GRAPH_AUTH_MODE=${mode} cannot get a Graph token for tenant ${tenantId}: a managed identity gets tokens of its own tenant (${homeTenantId}) only. Use certificate (the Entra app's certificate) or federated (a federated credential of the Entra app trusting the managed identity) for other tenants.`,
    );
    this.mode = mode;
    this.tenantId = tenantId;
  }
}

/** Graph credentials by tenant: one per tenant, made on first use and reused after. */
export interface TenantCredentials {
  /** The app's own tenant: the first of GRAPH_TENANT_IDS. */
  readonly homeTenantId: string;
  /** The credential for Graph in `tenantId`; throws HomeTenantOnlyCredentialError when the mode cannot serve it. */
  forTenant(tenantId: string): TokenCredential;
}

/**
 * MSAL checks an authority host it does not know by asking login.microsoftonline.com (instance discovery),
 * which vouches for Microsoft's hosts only. The Azure-shaped stack's token endpoint, on loopback (never a real
 * authority), is trusted as configured; every other host keeps MSAL's discovery and authority validation.
 */
function authorityOptions(settings: Pick<GraphSettings, 'authorityHost'>): { disableInstanceDiscovery?: true } {
  return settings.authorityHost && isLoopbackUrl(settings.authorityHost.href) ? { disableInstanceDiscovery: true } : {};
}

/**
 * The audience of the managed identity's token that a federated credential trusts: Entra's token exchange, one
 * per cloud (the US Government's and China's have their own).
 */
export function tokenExchangeScope(authorityHost: URL | undefined): string {
  const host = authorityHost?.hostname.toLowerCase() ?? '';
  const audience = host.endsWith('.us') ? 'api://AzureADTokenExchangeUSGov' : host.endsWith('.cn') ? 'api://AzureADTokenExchangeChina' : 'api://AzureADTokenExchange';
  return `${audience}/.default`;
}

/**
 * Makes the Graph credential of each tenant per GRAPH_AUTH_MODE: `certificate` and `clientsecret` ask the
 * tenant's authority for the Entra app's token; `federated` does too, presenting the managed identity's token
 * for the token exchange as the app's client assertion (the app's federated credential trusts that identity);
 * `simulator` names the tenant in its unsigned token. `managedidentity` and `default` serve the app's own
 * tenant only.
 */
export function createTenantCredentials(settings: TenantCredentialSettings): TenantCredentials {
  const homeTenantId = (settings.tenantIds[0] ?? '').toLowerCase();
  const auth = settings.graphAuth;
  const made = new Map<string, TokenCredential>();
  let certificate: string | undefined;
  let managedIdentity: ManagedIdentityCredential | undefined;
  const identity = () => (managedIdentity ??= settings.azureClientId ? new ManagedIdentityCredential({ clientId: settings.azureClientId }) : new ManagedIdentityCredential());

  const make = (tenantId: string): TokenCredential => {
    switch (auth.mode) {
      case 'simulator':
        return simulatorCredential(settings.appId, tenantId);
      case 'clientsecret':
        return new ClientSecretCredential(tenantId, settings.appId, auth.secret, authorityOptions(settings));
      case 'certificate':
        certificate ??= readFileSync(auth.certificatePath, 'utf8');
        return new ClientCertificateCredential(tenantId, settings.appId, { certificate }, authorityOptions(settings));
      case 'federated': {
        const scope = tokenExchangeScope(settings.authorityHost);
        // ManagedIdentityCredential keeps its token until near expiry: every tenant's credential shares it.
        const assertion = async () => (await identity().getToken(scope)).token;
        return new ClientAssertionCredential(tenantId, settings.appId, assertion, authorityOptions(settings));
      }
      case 'managedidentity':
        if (tenantId !== homeTenantId) throw new HomeTenantOnlyCredentialError(auth.mode, tenantId, homeTenantId);
        return identity();
      case 'default':
        if (tenantId !== homeTenantId) throw new HomeTenantOnlyCredentialError(auth.mode, tenantId, homeTenantId);
        return new DefaultAzureCredential(settings.azureClientId ? { managedIdentityClientId: settings.azureClientId } : {});
    }
  };

  return {
    homeTenantId,
    forTenant: (tenantId) => {
      const key = tenantId.toLowerCase();
      let credential = made.get(key);
      if (!credential) {
        credential = make(key);
        made.set(key, credential);
      }
      return credential;
    },
  };
}
