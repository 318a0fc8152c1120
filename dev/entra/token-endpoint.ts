import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sameSecret } from '../http/same-secret.js';
import { loopbackCertificate } from '../tls/loopback-certificate.js';
import { JWT_BEARER, verifyClientAssertion } from './client-assertion.js';
import { answerEntraError, EntraError } from './entra-error.js';
import { verifyFederatedAssertion, type FederatedIdentityCredential } from './federated-credential.js';
import { openIdConfiguration, instanceDiscovery } from './openid-configuration.js';
import { resourceOf, type EntraTokenSigner, FIRST_PARTY_RESOURCES } from './token-signer.js';

/** An app registration of the tenant with its credentials, and the application permissions granted to it. */
export interface RegisteredApp {
  /** The application (client) id: what `client_id` names. */
  readonly clientId: string;
  /** Its service principal's object id in the tenant: the token's `oid` and `sub`. */
  readonly principalId: string;
  /** A client secret's value. */
  readonly secret?: string;
  /** When the client secret expires (its `endDateTime`): from then on Entra refuses it (AADSTS7000222). */
  readonly secretExpiresAt?: Date;
  /** A certificate credential: the public certificate (PEM) uploaded to the registration. */
  readonly certificate?: string;
  /** Federated identity credentials: tokens of other issuers (a managed identity's) the app accepts as its client assertion. */
  readonly federatedCredentials?: readonly FederatedIdentityCredential[];
  /** App roles by resource (`https://graph.microsoft.com`: `['Chat.Read.All', …]`), as admin consent grants them. */
  readonly roles: Readonly<Record<string, readonly string[]>>;
}

/**
 * An admin's consent to a multi-tenant app in another tenant: the app's service principal there (its own object
 * id) and the app roles granted to it, by resource.
 */
export interface TenantConsent {
  readonly clientId: string;
  /** The service principal's object id in that tenant (a new one unless given). */
  readonly principalId?: string;
  readonly roles: Readonly<Record<string, readonly string[]>>;
}

/** Another tenant Entra knows, with the consents its admins gave to the home tenant's apps. */
export interface OtherTenant {
  readonly tenantId: string;
  readonly consents?: readonly TenantConsent[];
}

export interface TokenEndpointOptions {
  /** The home tenant: where the apps are registered and hold their credentials and roles. */
  readonly tenantId: string;
  readonly apps: readonly RegisteredApp[];
  /** Other tenants, where the apps (multi-tenant) get tokens once an admin consented there. */
  readonly tenants?: readonly OtherTenant[];
  readonly signer: EntraTokenSigner;
  readonly port?: number;
  /** Resources (service principals) the tenant holds besides those the apps' roles name; Microsoft's first-party ones are always there. */
  readonly resources?: readonly string[];
  /** Access token lifetime in seconds (Entra's app tokens last 60 to 90 minutes). */
  readonly lifetimeSeconds?: number;
}

/** Entra ID's authority for one tenant, on loopback HTTPS: what `AZURE_AUTHORITY_HOST` points @azure/identity at. */
export interface TokenEndpoint {
  /** `https://127.0.0.1:<port>`: the value of AZURE_AUTHORITY_HOST. */
  readonly authorityHost: string;
  /** `<authorityHost>/<tenant>/oauth2/v2.0/token`: where client credentials are exchanged for tokens. */
  readonly tokenUrl: string;
  /** `<authorityHost>/<tenant>/discovery/v2.0/keys`: the signer's keys. */
  readonly jwksUrl: string;
  /** Tokens issued so far, by resource. */
  readonly issued: ReadonlyMap<string, number>;
  /** `<authorityHost>/<tenant>/oauth2/v2.0/token` of any tenant. */
  readonly tokenUrlOf: (tenantId: string) => string;
  /** Adds a tenant Entra knows (no consent in it yet); nothing when it is known. */
  readonly addTenant: (tenantId: string) => void;
  /** An admin of another tenant consents the app (creates its service principal there, or replaces its roles). */
  readonly consent: (tenantId: string, consent: TenantConsent) => void;
  /** The admin removes the app's service principal: from then on the tenant issues it no token (AADSTS7000229). */
  readonly revokeConsent: (tenantId: string, clientId: string) => void;
  close(): Promise<void>;
}

/** Scopes MSAL may add that a client credentials request ignores. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access']);
const MAX_BODY = 64 * 1024;

/** Entra's refusal of a client credentials request in a tenant where the app has no service principal (never consented, or removed). */
const missingServicePrincipal = (clientId: string, tenantId: string) =>
  new EntraError(
    400,
    'invalid_client',
    7000229,
    `The client application ${clientId} is missing service principal in the tenant ${tenantId}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119`,
  );

const missing = (name: string) => new EntraError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);

/** A certificate credential's assertion: the app made and signed it about itself (`iss` is its client id); a federated one comes from another issuer. */
function selfIssued(assertion: string, clientId: string): boolean {
  try {
    return decodeJwt(assertion).iss?.toLowerCase() === clientId.toLowerCase();
  } catch {
    return true; // malformed: the certificate check answers Entra's AADSTS50027
  }
}

async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > MAX_BODY) throw new EntraError(400, 'invalid_request', 90015, 'Requested query string is too long.');
  }
  return new URLSearchParams(body);
}

/**
 * Starts Entra's v2 endpoints for a tenant on loopback HTTPS (the loopback certificate), as MSAL, inside
 * @azure/identity's ClientSecretCredential and ClientCertificateCredential, calls them: the tenant's OpenID
 * configuration, its keys, instance discovery and `POST /<tenant>/oauth2/v2.0/token` with
 * `grant_type=client_credentials`, authenticated by `client_secret`, a certificate's `client_assertion` or a
 * federated one (a token of the managed identity endpoint matching one of the app's `federatedCredentials`), for
 * `scope=<resource>/.default`. The answer is a v1 access token for the resource (as Entra issues for Graph, Key
 * Vault and Storage) with the app's roles on it; a refusal is Entra's JSON error with its AADSTS code.
 *
 * Other tenants (`tenants`, `addTenant`) hold the apps as multi-tenant apps: a request to `/<other>/oauth2/v2.0/token`
 * authenticates the app with its home credentials and, when an admin of that tenant consented (`consent`), answers
 * a token of that tenant (`tid`, issuer) with the roles consented there; without a service principal there
 * (never consented, or `revokeConsent`) Entra's 400 `invalid_client` AADSTS7000229. A service principal holding
 * no role gets a token without `roles`, as Entra issues it (Graph then refuses it).
 */
export async function startTokenEndpoint(options: TokenEndpointOptions): Promise<TokenEndpoint> {
  const { tenantId, signer } = options;
  const lifetime = options.lifetimeSeconds ?? 3599;
  const resources = new Set([...FIRST_PARTY_RESOURCES, ...(options.resources ?? []), ...options.apps.flatMap((a) => Object.keys(a.roles))].map(resourceOf));
  const issued = new Map<string, number>();
  let authorityHost = '';
  /** Other tenants, by lower-case id: the consents there by lower-case client id. */
  const others = new Map<string, { readonly tenantId: string; readonly consents: Map<string, TenantConsent & { readonly principalId: string }> }>();
  const addTenant = (id: string) => {
    if (id.toLowerCase() !== tenantId.toLowerCase() && !others.has(id.toLowerCase())) others.set(id.toLowerCase(), { tenantId: id, consents: new Map() });
  };
  const otherTenant = (id: string) => {
    const tenant = others.get(id.toLowerCase());
    if (!tenant) throw new Error(`The Entra stand-in knows no tenant '${id}'.`);
    return tenant;
  };
  const consent = (id: string, c: TenantConsent) => otherTenant(id).consents.set(c.clientId.toLowerCase(), { ...c, principalId: c.principalId ?? randomUUID() });
  for (const t of options.tenants ?? []) {
    addTenant(t.tenantId);
    for (const c of t.consents ?? []) consent(t.tenantId, c);
  }

  /** `tenant`: the tenant the request's path names, the home one or another Entra knows. */
  const token = async (req: IncomingMessage, tenant: string): Promise<object> => {
    const other = others.get(tenant.toLowerCase());
    const form = await formOf(req);
    const grantType = form.get('grant_type');
    if (!grantType) throw missing('grant_type');
    if (grantType !== 'client_credentials') throw new EntraError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
    const clientId = form.get('client_id');
    if (!clientId) throw missing('client_id');
    const app = options.apps.find((a) => a.clientId.toLowerCase() === clientId.toLowerCase());
    if (!app) {
      throw new EntraError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${other?.tenantId ?? tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    let clientAuthentication: '1' | '2';
    if (secret !== null) {
      if (app.secret === undefined || !sameSecret(secret, app.secret)) {
        throw new EntraError(
          401,
          'invalid_client',
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
        );
      }
      if (app.secretExpiresAt !== undefined && Date.now() >= app.secretExpiresAt.getTime()) {
        throw new EntraError(
          401,
          'invalid_client',
          7000222,
          `The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
        );
      }
      clientAuthentication = '1';
    } else if (assertion !== null) {
      if (form.get('client_assertion_type') !== JWT_BEARER) throw new EntraError(400, 'invalid_request', 90014, "The required field 'client_assertion_type' is missing from the credential.");
      if (selfIssued(assertion, app.clientId)) {
        await verifyClientAssertion(assertion, { clientId: app.clientId, certificatePem: app.certificate, tokenEndpoint: `${authorityHost}/${other?.tenantId ?? tenantId}/oauth2/v2.0/token` });
      } else {
        // The app's federated credentials live on its registration, in the home tenant: they hold for a request to any tenant.
        await verifyFederatedAssertion(assertion, { federatedCredentials: app.federatedCredentials ?? [], trustedIssuers: Object.values(signer.issuersOf(tenantId)), jwks: signer.jwks });
      }
      clientAuthentication = '2';
    } else {
      throw new EntraError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    const servicePrincipal = other ? other.consents.get(app.clientId.toLowerCase()) : app;
    if (!servicePrincipal) throw missingServicePrincipal(app.clientId, other?.tenantId ?? tenantId);
    const scopes = (form.get('scope') ?? '').split(' ').filter((s) => s && !OIDC_SCOPES.has(s));
    if (scopes.length === 0) throw missing('scope');
    const [scope] = scopes;
    if (scopes.length > 1 || !scope?.endsWith('/.default')) {
      throw new EntraError(
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${scopes.join(' ')} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    const resource = resourceOf(scope);
    if (!resources.has(resource)) {
      throw new EntraError(
        400,
        'invalid_resource',
        500011,
        `The resource principal named ${resource} was not found in the tenant named ${other?.tenantId ?? tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
      );
    }
    const { token: accessToken } = await signer.appToken({
      audience: resource,
      clientId: app.clientId,
      principalId: servicePrincipal.principalId,
      roles: servicePrincipal.roles[resource] ?? [],
      clientAuthentication,
      lifetimeSeconds: lifetime,
      ...(other ? { tenantId: other.tenantId } : {}),
    });
    issued.set(resource, (issued.get(resource) ?? 0) + 1);
    return { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken };
  };

  const route = async (req: IncomingMessage, url: URL): Promise<{ status: number; body: object }> => {
    const [, tenant = '', rest = ''] = /^\/([^/]+)\/(.*)$/.exec(url.pathname) ?? [];
    if (tenant === 'common' && rest === 'discovery/instance') return instanceDiscovery(authorityHost, tenantId, url.searchParams.get('authorization_endpoint'));
    if (tenant === 'common' && rest === 'discovery/v2.0/keys') return { status: 200, body: signer.jwks };
    const known = tenant.toLowerCase() === tenantId.toLowerCase() ? tenantId : others.get(tenant.toLowerCase())?.tenantId;
    if (known === undefined) {
      throw new EntraError(
        400,
        'invalid_request',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
      );
    }
    if (req.method === 'POST' && rest === 'oauth2/v2.0/token') return { status: 200, body: await token(req, known) };
    if (req.method !== 'GET') return { status: 404, body: {} };
    if (rest === 'v2.0/.well-known/openid-configuration') return { status: 200, body: openIdConfiguration(authorityHost, signer, 'v2', known) };
    if (rest === '.well-known/openid-configuration') return { status: 200, body: openIdConfiguration(authorityHost, signer, 'v1', known) };
    if (rest === 'discovery/v2.0/keys' || rest === 'discovery/keys') return { status: 200, body: signer.jwks };
    return { status: 404, body: {} };
  };

  const tls = await loopbackCertificate();
  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', authorityHost);
    const header = req.headers['client-request-id'];
    const correlationId = typeof header === 'string' ? header : (url.searchParams.get('client-request-id') ?? undefined);
    route(req, url)
      .then(({ status, body }) => {
        req.resume();
        res
          .writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store, no-cache', ...(correlationId ? { 'client-request-id': correlationId } : {}) })
          .end(JSON.stringify(body));
      })
      .catch((e: unknown) => {
        req.resume();
        if (e instanceof EntraError) return answerEntraError(res, e, correlationId, authorityHost);
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'server_error', error_description: (e as Error).message }));
      });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  authorityHost = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    authorityHost,
    tokenUrl: `${authorityHost}/${tenantId}/oauth2/v2.0/token`,
    jwksUrl: `${authorityHost}/${tenantId}/discovery/v2.0/keys`,
    issued,
    tokenUrlOf: (id) => `${authorityHost}/${id}/oauth2/v2.0/token`,
    addTenant,
    consent: (id, c) => void consent(id, c),
    revokeConsent: (id, clientId) => void otherTenant(id).consents.delete(clientId.toLowerCase()),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
