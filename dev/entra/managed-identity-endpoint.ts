import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sameSecret } from '../http/same-secret.js';
import { TOKEN_EXCHANGE_AUDIENCE } from './federated-credential.js';
import { createTokenSigner, FIRST_PARTY_RESOURCES, resourceOf, type EntraTokenSigner } from './token-signer.js';

/** A managed identity of the stand-in, and the app roles each resource has granted it. */
export interface StandInIdentity {
  /** The identity's client (application) id: what `AZURE_CLIENT_ID` / `client_id` names. */
  readonly clientId: string;
  /** Its service principal's object id: the token's `oid` and `sub`. */
  readonly principalId: string;
  /** Roles by resource (`https://graph.microsoft.com`: `['Chat.Read.All', …]`), as role assignments and admin consent give them. */
  readonly roles?: Readonly<Record<string, readonly string[]>>;
  /** The site's system-assigned identity: the one a request that names none gets (a user-assigned one must be named). */
  readonly systemAssigned?: boolean;
  /** A user-assigned identity's ARM resource id, for requests that name it by `mi_res_id`. */
  readonly resourceId?: string;
}

export interface ManagedIdentityEndpointOptions {
  readonly tenantId: string;
  readonly identities: readonly StandInIdentity[];
  readonly port?: number;
  /** Token lifetime in seconds (Entra's managed identity tokens last about a day). */
  readonly lifetimeSeconds?: number;
  /** The key to sign with, shared with the token endpoint (startEntraStandIn); a key of its own otherwise. */
  readonly signer?: EntraTokenSigner;
}

/**
 * Plays the App Service managed identity endpoint for a local stack: what `IDENTITY_ENDPOINT` and
 * `IDENTITY_HEADER` point `@azure/identity`'s ManagedIdentityCredential at on Functions, unchanged.
 */
export interface ManagedIdentityEndpoint {
  /** The value of IDENTITY_ENDPOINT. */
  readonly endpoint: string;
  /** The value of IDENTITY_HEADER: the secret every request must carry in X-IDENTITY-HEADER. */
  readonly header: string;
  /** Where the keys that sign its tokens are published (a resource checks tokens against them); the signer's keys. */
  readonly jwksUrl: string;
  /** The issuer of its tokens: `https://sts.windows.net/<tenant>/`, as Entra's v1 tokens name it. */
  readonly issuer: string;
  /** Tokens issued so far, by resource. */
  readonly issued: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

const API_VERSION = '2019-08-01';

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * Starts the endpoint on loopback. `GET <endpoint>?api-version=2019-08-01&resource=<r>[&client_id=<id>]` with
 * the header gives `{ access_token, expires_on, resource, token_type, client_id }`, as App Service does: an
 * RS256 JWT for the resource with the identity's roles for it (a v2 one for `api://AzureADTokenExchange`, the
 * assertion an app's federated credential trusts). A missing or wrong header: 401; an unknown
 * identity or another api-version: 400, with App Service's message shape. A request that names no identity
 * (`client_id`, `principal_id` or `mi_res_id`) gets the system-assigned one, or 400 when the site has none,
 * as in Azure: a user-assigned identity is only ever used when named.
 */
export async function startManagedIdentityEndpoint(options: ManagedIdentityEndpointOptions): Promise<ManagedIdentityEndpoint> {
  const signer = options.signer ?? (await createTokenSigner(options.tenantId));
  const header = randomBytes(24).toString('base64url');
  const lifetime = options.lifetimeSeconds ?? 24 * 3600;
  const issued = new Map<string, number>();
  const knownResources = new Set([...FIRST_PARTY_RESOURCES, TOKEN_EXCHANGE_AUDIENCE, ...options.identities.flatMap((i) => Object.keys(i.roles ?? {}))].map(resourceOf));

  const token = async (req: IncomingMessage, url: URL, res: ServerResponse) => {
    const presented = req.headers['x-identity-header'];
    if (typeof presented !== 'string' || !sameSecret(presented, header)) {
      return answer(res, 401, { statusCode: 401, message: 'Unauthorized: the X-IDENTITY-HEADER is missing or wrong.' });
    }
    if (url.searchParams.get('api-version') !== API_VERSION) return answer(res, 400, { statusCode: 400, message: `Only api-version ${API_VERSION} is served.` });
    const resource = url.searchParams.get('resource');
    if (!resource) return answer(res, 400, { statusCode: 400, message: 'The resource parameter is required.' });
    const named = (param: string, of: (i: StandInIdentity) => string | undefined) => {
      const value = url.searchParams.get(param)?.toLowerCase();
      return value === undefined ? undefined : (options.identities.find((i) => of(i)?.toLowerCase() === value) ?? null);
    };
    const identity =
      named('client_id', (i) => i.clientId) ?? named('principal_id', (i) => i.principalId) ?? named('mi_res_id', (i) => i.resourceId) ?? options.identities.find((i) => i.systemAssigned);
    if (!identity) return answer(res, 400, { statusCode: 400, message: 'No Managed Identity found for specified ClientId/ResourceId/PrincipalId.' });
    const audience = resourceOf(resource);
    // As Entra answers through the endpoint: a resource no service principal of the tenant stands for is refused.
    if (!knownResources.has(audience)) {
      return answer(res, 400, {
        statusCode: 400,
        message: `AADSTS500011: The resource principal named ${audience} was not found in the tenant named ${options.tenantId}.`,
      });
    }
    const roles = identity.roles?.[audience] ?? [];
    const { token: accessToken, expiresOn } = await signer.appToken({
      audience,
      clientId: identity.clientId,
      principalId: identity.principalId,
      roles,
      clientAuthentication: '2',
      lifetimeSeconds: lifetime,
      // Entra's token exchange takes v2 tokens: the issuer a federated credential names is `https://login.microsoftonline.com/<tenant>/v2.0`.
      ...(audience === TOKEN_EXCHANGE_AUDIENCE ? { version: 'v2' as const } : {}),
    });
    issued.set(audience, (issued.get(audience) ?? 0) + 1);
    return answer(res, 200, { access_token: accessToken, expires_on: String(expiresOn), resource, token_type: 'Bearer', client_id: identity.clientId });
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    req.resume();
    if (req.method === 'GET' && url.pathname === '/msi/token') return void token(req, url, res).catch((e: Error) => answer(res, 500, { statusCode: 500, message: e.message }));
    if (req.method === 'GET' && url.pathname === '/discovery/v2.0/keys') return answer(res, 200, signer.jwks);
    answer(res, 404, { statusCode: 404, message: 'Not found.' });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  return {
    endpoint: `${base}/msi/token`,
    header,
    jwksUrl: `${base}/discovery/v2.0/keys`,
    issuer: signer.issuers.v1,
    issued,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
