import { startManagedIdentityEndpoint, type ManagedIdentityEndpoint, type StandInIdentity } from './managed-identity-endpoint.js';
import { startTokenEndpoint, type OtherTenant, type RegisteredApp, type TokenEndpoint } from './token-endpoint.js';
import { createTokenSigner, type TokenVersion } from './token-signer.js';

export interface EntraStandInOptions {
  readonly tenantId: string;
  /** Managed identities, served by the App Service managed identity endpoint. */
  readonly identities?: readonly StandInIdentity[];
  /** App registrations with a client secret, a certificate or federated credentials, served by the token endpoint. */
  readonly apps?: readonly RegisteredApp[];
  /** Other tenants where the apps, multi-tenant, may be consented (token-endpoint.ts). */
  readonly tenants?: readonly OtherTenant[];
  /** The token endpoint's port (a free one unless given). */
  readonly port?: number;
  /** The managed identity endpoint's port (a free one unless given). */
  readonly managedIdentityPort?: number;
}

/** Entra ID for a local stack: both ways an app gets tokens, signed by one key. */
export interface EntraStandIn {
  /** IDENTITY_ENDPOINT (`endpoint`) and IDENTITY_HEADER (`header`) for ManagedIdentityCredential. */
  readonly managedIdentity: ManagedIdentityEndpoint;
  /** AZURE_AUTHORITY_HOST for ClientSecretCredential, ClientCertificateCredential and ClientAssertionCredential (loopback HTTPS). */
  readonly authorityHost: string;
  /** The token endpoint of the tenant. */
  readonly tokenUrl: string;
  /** The keys that sign every token of either endpoint: what a resource checks tokens against. */
  readonly jwksUrl: string;
  /** The issuer of each token version (both endpoints issue v1 tokens, as Entra does for Graph, Key Vault and Storage). */
  readonly issuers: Readonly<Record<TokenVersion, string>>;
  /** Tokens the token endpoint issued so far, by resource. */
  readonly issued: ReadonlyMap<string, number>;
  /** Other tenants: their token URLs, and their admins' consents to the apps. */
  readonly tokenUrlOf: TokenEndpoint['tokenUrlOf'];
  readonly addTenant: TokenEndpoint['addTenant'];
  readonly consent: TokenEndpoint['consent'];
  readonly revokeConsent: TokenEndpoint['revokeConsent'];
  close(): Promise<void>;
}

/** Starts the managed identity endpoint and the tenant's token endpoint under one signing key. */
export async function startEntraStandIn(options: EntraStandInOptions): Promise<EntraStandIn> {
  const signer = await createTokenSigner(options.tenantId);
  const tokens = await startTokenEndpoint({
    tenantId: options.tenantId,
    apps: options.apps ?? [],
    signer,
    ...(options.tenants ? { tenants: options.tenants } : {}),
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  const managedIdentity = await startManagedIdentityEndpoint({
    tenantId: options.tenantId,
    identities: options.identities ?? [],
    signer,
    ...(options.managedIdentityPort === undefined ? {} : { port: options.managedIdentityPort }),
  }).catch(async (e: unknown) => {
    await tokens.close();
    throw e;
  });
  return {
    managedIdentity,
    authorityHost: tokens.authorityHost,
    tokenUrl: tokens.tokenUrl,
    jwksUrl: tokens.jwksUrl,
    issuers: signer.issuers,
    issued: tokens.issued,
    tokenUrlOf: tokens.tokenUrlOf,
    addTenant: tokens.addTenant,
    consent: tokens.consent,
    revokeConsent: tokens.revokeConsent,
    close: async () => {
      await Promise.all([managedIdentity.close(), tokens.close()]);
    },
  };
}
