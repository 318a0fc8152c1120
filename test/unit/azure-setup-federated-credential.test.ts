import { describe, expect, it } from 'vitest';
import { federatedCredentialFor, FederatedCredentialConflictError, FederatedCredentialInputError, planFederatedCredential } from '../../cli/azure-setup/federated-credential.js';
import { thrown } from '../helpers/thrown.js';

const TENANT = '11111111-1111-4111-8111-111111111111';
const PRINCIPAL = '55555555-5555-4555-8555-555555555555';
const ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`;

describe('federatedCredentialFor: the credential trusting the managed identity', () => {
  it("names the identity's principal id as subject, and the token exchange of the issuer's cloud as audience", () => {
    expect(federatedCredentialFor('relay-prod', ISSUER, PRINCIPAL.toUpperCase())).toMatchObject({ name: 'relay-prod', issuer: ISSUER, subject: PRINCIPAL, audiences: ['api://AzureADTokenExchange'] });
    expect(federatedCredentialFor('relay-prod', `https://login.microsoftonline.us/${TENANT}/v2.0`, PRINCIPAL).audiences).toEqual(['api://AzureADTokenExchangeUSGov']);
    expect(federatedCredentialFor('relay-prod', `https://login.chinacloudapi.cn/${TENANT}/v2.0`, PRINCIPAL).audiences).toEqual(['api://AzureADTokenExchangeChina']);
  });

  it('refuses a name Entra would refuse, a client name for a principal id, and an issuer that is no v2.0 issuer', () => {
    for (const [name, issuer, principal] of [
      ['relay prod', ISSUER, PRINCIPAL],
      ['relay-prod', ISSUER, 'mi-relay'],
      ['relay-prod', 'login.microsoftonline.com', PRINCIPAL],
      ['relay-prod', `https://login.microsoftonline.com/${TENANT}/`, PRINCIPAL],
    ] as const) {
      expect(thrown(FederatedCredentialInputError, () => federatedCredentialFor(name, issuer, principal)).code).toBe('ERR_FEDERATED_CREDENTIAL_INPUT');
    }
  });
});

describe('planFederatedCredential: create, keep, or say what stands in the way', () => {
  const wanted = federatedCredentialFor('relay-prod', ISSUER, PRINCIPAL);

  it('creates it when the app has none trusting the identity, and keeps one that does under any name', () => {
    expect(planFederatedCredential('app', [], wanted)).toEqual({ action: 'create', credential: wanted });
    const other = { name: 'relay-staging', issuer: ISSUER, subject: '66666666-6666-4666-8666-666666666666', audiences: ['api://AzureADTokenExchange'] };
    expect(planFederatedCredential('app', [other], wanted).action).toBe('create');
    const byHand = { name: 'relay-managed-identity', issuer: ISSUER, subject: PRINCIPAL.toUpperCase(), audiences: ['api://AzureADTokenExchange'] };
    expect(planFederatedCredential('app', [other, byHand], wanted)).toEqual({ action: 'keep', existing: byHand });
  });

  it('refuses one trusting the identity for another audience, and one of the same name trusting another identity', () => {
    const wrongAudience = thrown(FederatedCredentialConflictError, () => planFederatedCredential('app', [{ name: 'x', issuer: ISSUER, subject: PRINCIPAL, audiences: ['api://other'] }], wanted));
    expect(wrongAudience.message).toContain('az ad app federated-credential delete --id app --federated-credential-id x');
    const taken = thrown(FederatedCredentialConflictError, () =>
      planFederatedCredential('app', [{ name: 'Relay-Prod', issuer: ISSUER, subject: '66666666-6666-4666-8666-666666666666', audiences: [] }], wanted),
    );
    expect(taken.code).toBe('ERR_FEDERATED_CREDENTIAL_CONFLICT');
    expect(taken.message).toMatch(/give this one another name \(--name\)/);
  });
});
