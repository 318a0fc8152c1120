import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

/** Entra's two token formats: v1 (`sts.windows.net` issuer; what Graph, Key Vault and Storage accept) and v2. */
export type TokenVersion = 'v1' | 'v2';

/** The app token a resource receives: who called (the app or identity), for which resource, with which roles. */
export interface AppTokenClaims {
  /** The resource (`https://graph.microsoft.com`): the token's `aud`. */
  readonly audience: string;
  /** The calling app's or identity's client id: `appid` (v1) or `azp` (v2). */
  readonly clientId: string;
  /** Its service principal's object id: `oid` and `sub`. */
  readonly principalId: string;
  /** The application permissions (app roles) the resource granted it; omitted from the token when empty, as Entra does. */
  readonly roles: readonly string[];
  /** How the client authenticated: `1` a client secret, `2` a certificate or a managed identity (`appidacr`/`azpacr`). */
  readonly clientAuthentication: '1' | '2';
  readonly lifetimeSeconds: number;
  readonly version?: TokenVersion;
  /** The tenant the token is for (`tid`, the issuer's tenant): another tenant where a multi-tenant app is consented; the signer's own unless said. */
  readonly tenantId?: string;
}

/**
 * The signing key of the Entra stand-in: one RS256 key with its `kid`, published as a JWKS, shared by every
 * endpoint that issues tokens (the managed identity endpoint, the token endpoint) so a resource checks them all
 * against one key set, as it checks Entra's.
 */
export interface EntraTokenSigner {
  readonly tenantId: string;
  readonly kid: string;
  /** The issuer of each token version: `https://sts.windows.net/<tenant>/` and `https://login.microsoftonline.com/<tenant>/v2.0`. */
  readonly issuers: Readonly<Record<TokenVersion, string>>;
  /** The issuers of another tenant's tokens (Entra signs every tenant's with the same keys). */
  issuersOf(tenantId: string): Readonly<Record<TokenVersion, string>>;
  /** The published keys, as Entra's `discovery/v2.0/keys` lists them. */
  readonly jwks: { readonly keys: readonly JWK[] };
  /** Signs the claims as given, adding the issuer of `version` (v1 unless said) of `tenantId` (the signer's unless said), `ver`, `tid`, `iat`, `nbf` and `exp`. */
  sign(claims: JWTPayload, options?: { readonly version?: TokenVersion; readonly lifetimeSeconds?: number; readonly tenantId?: string }): Promise<{ token: string; expiresOn: number }>;
  /** An app-only access token for a resource, shaped as Entra issues it. */
  appToken(claims: AppTokenClaims): Promise<{ token: string; expiresOn: number }>;
}

/** `https://graph.microsoft.com/`, `https://graph.microsoft.com/.default` and `https://graph.microsoft.com` are one resource. */
export function resourceOf(value: string): string {
  return value.replace(/\/\.default$/, '').replace(/\/+$/, '');
}

/** Makes a new key for a tenant's stand-in (a fresh one each start: tokens of an earlier run no longer verify). */
export async function createTokenSigner(tenantId: string): Promise<EntraTokenSigner> {
  const kid = `stand-in-${randomBytes(4).toString('hex')}`;
  const pair = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid, use: 'sig', alg: 'RS256' };
  const signingKey: CryptoKey = pair.privateKey;
  const issuersOf = (tenant: string) => ({ v1: `https://sts.windows.net/${tenant}/`, v2: `https://login.microsoftonline.com/${tenant}/v2.0` }) as const;
  const issuers = issuersOf(tenantId);

  const sign: EntraTokenSigner['sign'] = async (claims, options = {}) => {
    const version = options.version ?? 'v1';
    const tenant = options.tenantId ?? tenantId;
    const now = Math.floor(Date.now() / 1000);
    const expiresOn = now + (options.lifetimeSeconds ?? 3599);
    const token = await new SignJWT({ ...claims, tid: tenant, ver: version === 'v1' ? '1.0' : '2.0' })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
      .setIssuer(issuersOf(tenant)[version])
      .setIssuedAt(now)
      .setNotBefore(now - 300)
      .setExpirationTime(expiresOn)
      .sign(signingKey);
    return { token, expiresOn };
  };

  return {
    tenantId,
    kid,
    issuers,
    issuersOf,
    jwks: { keys: [jwk] },
    sign,
    appToken: (c) => {
      const version = c.version ?? 'v1';
      const caller = version === 'v1' ? { appid: c.clientId, appidacr: c.clientAuthentication } : { azp: c.clientId, azpacr: c.clientAuthentication };
      const claims: JWTPayload = {
        aud: c.audience,
        sub: c.principalId,
        oid: c.principalId,
        ...caller,
        idtyp: 'app',
        uti: randomUUID(),
        ...(c.roles.length > 0 ? { roles: [...c.roles] } : {}),
      };
      return sign(claims, { version, lifetimeSeconds: c.lifetimeSeconds, ...(c.tenantId ? { tenantId: c.tenantId } : {}) });
    },
  };
}

/** Microsoft's service principals every tenant holds (the resources this app's clients ask tokens for). */
export const FIRST_PARTY_RESOURCES = ['https://graph.microsoft.com', 'https://vault.azure.net', 'https://storage.azure.com', 'https://monitor.azure.com', 'https://management.azure.com'];
