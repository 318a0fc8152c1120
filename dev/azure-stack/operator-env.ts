import type { StorageRole } from '../storage/storage-roles.js';

/** The storage roles docs/deploy.md step 9 has the operator give themselves for the CLIs. */
export const OPERATOR_STORAGE_ROLES: readonly StorageRole[] = ['Storage Table Data Contributor', 'Storage Blob Data Contributor', 'Storage Queue Data Contributor'];

/**
 * The operator's shell for the CLIs, as docs/deploy.md step 9 sets it: the site's settings with the secrets
 * read from the vault (`az keyvault secret show`, which the template's Secrets Officer role allows), storage
 * reached with DefaultAzureCredential, and the operator's own identity in place of the site's. Locally that
 * identity comes from the stand-in's managed identity endpoint (as from a VM or Cloud Shell), which
 * DefaultAzureCredential finds by AZURE_CLIENT_ID; in Azure it would be `az login`.
 */
export function operatorEnvironment(siteSettings: Readonly<Record<string, string>>, platformEnv: Readonly<Record<string, string>>, operatorClientId: string): Record<string, string> {
  const env: Record<string, string> = { ...siteSettings, ...platformEnv, AzureWebJobsStorage__credential: 'default', AZURE_CLIENT_ID: operatorClientId };
  delete env.AzureWebJobsStorage__clientId;
  delete env.APPLICATIONINSIGHTS_CONNECTION_STRING;
  delete env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING;
  return env;
}
