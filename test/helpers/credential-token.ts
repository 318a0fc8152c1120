import type { TokenCredential } from '@azure/identity';

/** The token a credential gets for a scope, Graph's unless said (a TokenCredential may answer null; the ones tested never should). */
export async function tokenFrom(credential: TokenCredential, scope = 'https://graph.microsoft.com/.default'): Promise<string> {
  const got = await credential.getToken(scope);
  if (!got) throw new Error('the credential gave no token');
  return got.token;
}
