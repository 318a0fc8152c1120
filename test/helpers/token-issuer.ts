import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { GRAPH_CHANGE_TRACKING_APP_ID } from '../../shared/protocol/notification.js';

/**
 * Plays Microsoft identity platform for tests: an RSA key pair whose public half is served as a JWKS over
 * loopback HTTP, and validationTokens signed like Graph's (RS256, kid, v1 issuer with `appid` or v2 issuer with
 * `azp` = Graph Change Tracking, aud = app, one hour).
 */
export interface TokenIssuer {
  readonly jwksUrl: string;
  /** Requests the JWKS endpoint has served. */
  readonly jwksRequests: number;
  /** Publishes another key in the JWKS (a rotation); sign({ kid }) then signs with it. */
  publishKey(kid: string): Promise<void>;
  sign(options?: SignOptions): Promise<string>;
  close(): Promise<void>;
}

export interface SignOptions {
  tenantId?: string;
  audience?: string;
  appid?: string | null;
  azp?: string | null;
  /** 'v1' (the default), 'v2' or an issuer URL. */
  issuer?: string;
  /** Seconds from now. */
  expiresIn?: number;
  /** Seconds from now; null: no `nbf`. */
  notBefore?: number | null;
  /** Seconds from now (the default -60); null: no `iat`. */
  issuedAt?: number | null;
  /** The kid in the header; signs with the published key of that kid, if any. */
  kid?: string;
  /** Sign with this key instead of the published one. */
  privateKey?: CryptoKey;
  tid?: string | null;
}

export async function startTokenIssuer(defaults: { tenantId: string; audience: string }): Promise<TokenIssuer> {
  const published: JWK[] = [];
  const privateKeys = new Map<string, CryptoKey>();
  const publishKey = async (kid: string) => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    published.push({ ...(await exportJWK(pair.publicKey)), kid, use: 'sig', alg: 'RS256' });
    privateKeys.set(kid, pair.privateKey);
  };
  await publishKey('test-key-1');
  let requests = 0;
  const server: Server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;

  return {
    jwksUrl: `http://127.0.0.1:${port}/common/discovery/v2.0/keys`,
    get jwksRequests() {
      return requests;
    },
    publishKey,
    async sign(o: SignOptions = {}) {
      const tenantId = o.tenantId ?? defaults.tenantId;
      const now = Math.floor(Date.now() / 1000);
      const issuer = o.issuer === undefined || o.issuer === 'v1' ? `https://sts.windows.net/${tenantId}/` : o.issuer === 'v2' ? `https://login.microsoftonline.com/${tenantId}/v2.0` : o.issuer;
      // A v1 token names the calling app in `appid`, a v2 token in `azp`: each carries only its own.
      const v2 = o.issuer === 'v2';
      const claims: Record<string, unknown> = { tid: o.tid === undefined ? tenantId : o.tid, ver: v2 ? '2.0' : '1.0' };
      const appid = o.appid === undefined ? (v2 ? undefined : GRAPH_CHANGE_TRACKING_APP_ID) : o.appid;
      const azp = o.azp === undefined ? (v2 ? GRAPH_CHANGE_TRACKING_APP_ID : undefined) : o.azp;
      if (appid) claims.appid = appid;
      if (azp) claims.azp = azp;
      for (const k of Object.keys(claims)) if (claims[k] === null) delete claims[k];
      const kid = o.kid ?? 'test-key-1';
      const signingKey = o.privateKey ?? privateKeys.get(kid) ?? privateKeys.get('test-key-1')!;
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
        .setIssuer(issuer)
        .setAudience(o.audience ?? defaults.audience)
        .setExpirationTime(now + (o.expiresIn ?? 3600));
      if (o.issuedAt !== null) jwt.setIssuedAt(now + (o.issuedAt ?? -60));
      if (o.notBefore !== null) jwt.setNotBefore(now + (o.notBefore ?? -60));
      return jwt.sign(signingKey);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
