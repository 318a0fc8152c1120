import { resolve } from 'node:path';
import { SecretClient } from '@azure/keyvault-secrets';
import { isLoopbackUrl } from '../../shared/util/loopback-url.js';
import type { HostLog } from '../local-host/host-log.js';
import { resolveKeyVaultReferences, type KeyVaultReference } from '../local-host/key-vault-references.js';
import { describeLocalApp, startLocalHost, type LocalHost } from '../local-host/local-host.js';
import type { IndexedFunction } from '../local-host/function-index.js';
import { siteIdentityCredential } from './site-identity-credential.js';

/** A function app as App Service holds it: its app settings, the platform's variables, the identity that reads its Key Vault references. */
export interface AzureSite {
  readonly appSettings: Readonly<Record<string, string>>;
  /** What the platform sets in the site's processes (AZURE_FUNCTIONS_ENVIRONMENT, IDENTITY_ENDPOINT, IDENTITY_HEADER, …). */
  readonly platformEnv: Readonly<Record<string, string>>;
  /** The resource id of the user-assigned identity the site reads Key Vault references with; absent: the system-assigned one. */
  readonly keyVaultReferenceIdentity?: string;
}

/**
 * Reads a Key Vault reference as App Service does: with the site's identity (siteIdentityCredential: from the
 * site's managed identity endpoint), from the vault the reference names. A vault on loopback is a stand-in, whose
 * challenge names vault.azure.net, so the SDK's check of the challenge against the vault's host is skipped there only.
 */
export function siteSecretReader(site: AzureSite): (reference: KeyVaultReference) => Promise<string> {
  const credential = siteIdentityCredential(site);
  const clients = new Map<string, SecretClient>();
  return async (ref) => {
    let client = clients.get(ref.vaultUrl);
    if (!client) {
      client = new SecretClient(ref.vaultUrl, credential, { disableChallengeResourceVerification: isLoopbackUrl(ref.vaultUrl), retryOptions: { maxRetries: 1 } });
      clients.set(ref.vaultUrl, client);
    }
    return (await client.getSecret(ref.secretName, ref.version ? { version: ref.version } : {})).value ?? '';
  };
}

/** The site's settings as its app sees them (Key Vault references read), in any process: the site's identity endpoint is named. */
export async function readSiteSettings(site: AzureSite): Promise<Record<string, string>> {
  return (await resolveKeyVaultReferences(site.appSettings, siteSecretReader(site))).settings;
}

/**
 * Runs the app as the site: the local host in Production with exactly the site's app settings, the platform's
 * variables set in this process first (the app's own credentials find the identity's endpoint there).
 */
export async function startSiteHost(
  site: AzureSite,
  options: { readonly appDir: string; readonly port: number; readonly log?: HostLog; readonly banner?: (text: string) => void },
): Promise<LocalHost> {
  Object.assign(process.env, site.platformEnv);
  return startLocalHost({
    // Resolved, as provisionStorage derives the host id (and so the keys' folder) from it.
    appDir: resolve(options.appDir),
    port: options.port,
    environment: 'Production',
    appSettings: site.appSettings,
    readSecret: siteSecretReader(site),
    ...(options.log ? { log: options.log } : {}),
    ...(options.banner ? { banner: options.banner } : {}),
  });
}

/** The app's index as the site's host makes it (`start-local --site <file> --describe`: the Flex topology's first step). */
export async function describeSiteApp(site: AzureSite, options: { readonly appDir: string; readonly log: HostLog }): Promise<IndexedFunction[]> {
  Object.assign(process.env, site.platformEnv);
  return describeLocalApp({ appDir: resolve(options.appDir), environment: 'Production', appSettings: site.appSettings, readSecret: siteSecretReader(site), log: options.log });
}
