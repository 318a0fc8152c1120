import { CredentialUnavailableError, type AccessToken, type TokenCredential } from '@azure/identity';
import type { AzureSite } from './site-host.js';

/** The version of App Service's managed identity protocol @azure/identity speaks on Functions (and the stand-in serves). */
const API_VERSION = '2019-08-01';

/**
 * The identity a site reads its Key Vault references with, as the platform holds it: tokens from the site's own
 * managed identity endpoint (IDENTITY_ENDPOINT and IDENTITY_HEADER of its platformEnv, App Service's protocol),
 * for its keyVaultReferenceIdentity (`mi_res_id`) or else its system-assigned identity. Named, not read from this
 * process's environment, which only the site's process holds (startSiteHost): the stack's process reads the
 * references too, and @azure/identity's ManagedIdentityCredential finds its endpoint in the environment alone.
 * Fails as that credential does, with CredentialUnavailableError. `clientId` names another identity the endpoint
 * serves (`client_id`), as an operator's VM or Cloud Shell would hold one.
 */
export function siteIdentityCredential(site: Pick<AzureSite, 'platformEnv' | 'keyVaultReferenceIdentity'>, clientId?: string): TokenCredential {
  const { IDENTITY_ENDPOINT: endpoint, IDENTITY_HEADER: header } = site.platformEnv;
  return {
    async getToken(scopes: string | string[]): Promise<AccessToken> {
      if (!endpoint || !header) throw new CredentialUnavailableError("The site's platform variables name no managed identity endpoint (IDENTITY_ENDPOINT, IDENTITY_HEADER).");
      const all = typeof scopes === 'string' ? [scopes] : scopes;
      if (all.length !== 1) throw new CredentialUnavailableError(`One scope at a time, as ManagedIdentityCredential takes them: ${JSON.stringify(all)}.`);
      const url = new URL(endpoint);
      url.searchParams.set('api-version', API_VERSION);
      url.searchParams.set('resource', all[0]!.replace(/\/\.default$/, ''));
      if (clientId) url.searchParams.set('client_id', clientId);
      else if (site.keyVaultReferenceIdentity) url.searchParams.set('mi_res_id', site.keyVaultReferenceIdentity);
      let res: Response;
      try {
        res = await fetch(url, { headers: { 'x-identity-header': header } });
      } catch (e) {
        throw new CredentialUnavailableError(`The site's managed identity endpoint could not be reached: ${(e as Error).message}`, { cause: e });
      }
      const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_on?: string; message?: string };
      if (!res.ok || !body.access_token || !body.expires_on) {
        throw new CredentialUnavailableError(`The site's managed identity endpoint answered ${res.status}${body.message ? `: ${body.message}` : ''}`);
      }
      return { token: body.access_token, expiresOnTimestamp: Number(body.expires_on) * 1000, tokenType: 'Bearer' };
    },
  };
}
