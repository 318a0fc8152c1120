/** Entra ID's public cloud, where admins consent unless AZURE_AUTHORITY_HOST names another cloud. */
export const PUBLIC_AUTHORITY_HOST = 'https://login.microsoftonline.com';

/**
 * The URL an admin of `tenantId` opens to grant the app (GRAPH_APP_ID) its application permissions in their
 * tenant: Entra's admin consent endpoint on the cloud's authority host (AZURE_AUTHORITY_HOST, else the public
 * cloud's).
 */
export function adminConsentUrl(tenantId: string, appId: string, authorityHost?: URL): string {
  const host = (authorityHost?.origin ?? PUBLIC_AUTHORITY_HOST).replace(/\/+$/, '');
  return `${host}/${encodeURIComponent(tenantId.toLowerCase())}/adminconsent?client_id=${encodeURIComponent(appId)}`;
}
