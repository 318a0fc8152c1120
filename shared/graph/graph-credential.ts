import { readFileSync } from 'node:fs';
import { ClientCertificateCredential, ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential, type AccessToken, type TokenCredential } from '@azure/identity';
import type { CertificateSettings, GraphSettings, ReceiveSettings } from '../config/settings.js';
import { isLoopbackUrl } from '../util/loopback-url.js';

/**
 * For the local Graph simulator: an unsigned JWT naming our app and tenant, which the simulator reads as
 * Graph would read a real token's claims. Never accepted by real Graph.
 */
export function simulatorCredential(appId: string, tenantId: string): TokenCredential {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return {
    getToken: async (): Promise<AccessToken> => {
      const exp = Math.floor(Date.now() / 1000) + 3600;
      return { token: `${part({ alg: 'none', typ: 'JWT' })}.${part({ appid: appId, tid: tenantId, exp, roles: ['Chat.Read.All'] })}.`, expiresOnTimestamp: exp * 1000 };
    },
  };
}

/**
 * MSAL checks an authority host it does not know by asking login.microsoftonline.com (instance discovery),
 * which vouches for Microsoft's hosts only. The Azure-shaped stack's token endpoint, on loopback (never a real
 * authority), is trusted as configured; every other host keeps MSAL's discovery and authority validation.
 */
function authorityOptions(settings: Pick<GraphSettings, 'authorityHost'>): { disableInstanceDiscovery?: true } {
  return settings.authorityHost && isLoopbackUrl(settings.authorityHost.href) ? { disableInstanceDiscovery: true } : {};
}

/** The credential for Graph, per GRAPH_AUTH_MODE. */
export function createGraphCredential(settings: GraphSettings & Pick<ReceiveSettings, 'appId' | 'tenantIds'> & Pick<CertificateSettings, 'azureClientId'>): TokenCredential {
  const auth = settings.graphAuth;
  const tenantId = settings.tenantIds[0] ?? '';
  switch (auth.mode) {
    case 'simulator':
      return simulatorCredential(settings.appId, tenantId);
    case 'clientsecret':
      return new ClientSecretCredential(tenantId, settings.appId, auth.secret, authorityOptions(settings));
    case 'certificate':
      return new ClientCertificateCredential(tenantId, settings.appId, { certificate: readFileSync(auth.certificatePath, 'utf8') }, authorityOptions(settings));
    case 'managedidentity':
      return settings.azureClientId ? new ManagedIdentityCredential({ clientId: settings.azureClientId }) : new ManagedIdentityCredential();
    case 'default':
      return new DefaultAzureCredential(settings.azureClientId ? { managedIdentityClientId: settings.azureClientId } : {});
  }
}
