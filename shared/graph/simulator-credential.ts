import type { AccessToken, TokenCredential } from '@azure/identity';

/**
 * For the local Graph simulator: an unsigned JWT naming our app and tenant, which the simulator reads as
 * Graph would read a real token's claims. Never accepted by real Graph.
 */
export function simulatorCredential(appId: string, tenantId: string): TokenCredential {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return {
    getToken: async (): Promise<AccessToken> => {
      const exp = Math.floor(Date.now() / 1000) + 3600;
      return { token: `${part({ alg: 'none', typ: 'JWT' })}.${part({ appid: appId, tid: tenantId, exp, roles: ['Chat.Read.All'] })}.`, expiresOnTimestamp: exp * 1000 };
    },
  };
}
