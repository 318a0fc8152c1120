import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { exportJWK, SignJWT, type JWK } from 'jose';

export const GRAPH_CHANGE_TRACKING_APP_ID = '0bf30f3b-4a52-48df-9a82-234910c4a086';

/**
 * Signs validationTokens as Microsoft identity platform does for Graph change notifications (RS256, a
 * published `kid`) and publishes its public key as a JWKS.
 */
export class TokenSigner {
  readonly kid = `sim-${randomUUID().slice(0, 8)}`;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  /** Which token version it issues: v1, v2, or `mixed` (each token the other version than the one before). */
  issuerVersion: 'v1' | 'v2' | 'mixed' = 'mixed';
  #issued = 0;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.#privateKey = privateKey;
    this.#publicKey = publicKey;
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: [{ ...(await exportJWK(this.#publicKey)), kid: this.kid, use: 'sig', alg: 'RS256', kty: 'RSA' }] };
  }

  issuer(tenantId: string, version: 'v1' | 'v2'): string {
    return version === 'v1' ? `https://sts.windows.net/${tenantId}/` : `https://login.microsoftonline.com/${tenantId}/v2.0`;
  }

  #nextVersion(): 'v1' | 'v2' {
    if (this.issuerVersion !== 'mixed') return this.issuerVersion;
    return this.#issued++ % 2 === 0 ? 'v1' : 'v2';
  }

  /**
   * A validation token for the app that created a subscription, in its tenant; valid one hour. As Microsoft
   * identity platform issues them: a v1 token names the caller (Graph Change Tracking) in `appid` and has no
   * `azp`; a v2 token the other way round.
   */
  async validationToken(appId: string, tenantId: string, nowMs: number, overrides: { privateKey?: KeyObject } = {}): Promise<string> {
    const now = Math.floor(nowMs / 1000);
    const version = this.#nextVersion();
    const caller = version === 'v1' ? { appid: GRAPH_CHANGE_TRACKING_APP_ID, appidacr: '2' } : { azp: GRAPH_CHANGE_TRACKING_APP_ID, azpacr: '2' };
    return new SignJWT({ ...caller, tid: tenantId, ver: version === 'v1' ? '1.0' : '2.0', aio: randomUUID() })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.kid })
      .setIssuer(this.issuer(tenantId, version))
      .setAudience(appId)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 3600)
      .sign(overrides.privateKey ?? this.#privateKey);
  }
}
