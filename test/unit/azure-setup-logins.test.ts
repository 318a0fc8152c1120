import { UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { compareLogins, type ToolLogin } from '../../cli/azure-setup/login-check.js';
import { signedInPrincipal, UnknownPrincipalError } from '../../cli/azure-setup/signed-in-principal.js';

const token = (claims: Record<string, unknown>) => new UnsecuredJWT(claims).encode();
const TENANT = '11111111-1111-4111-8111-111111111111';
const person = signedInPrincipal(token({ oid: 'oid-alice', tid: TENANT, scp: 'user_impersonation', upn: 'alice@contoso.com' }));

describe('signedInPrincipal: who an Azure token names', () => {
  it('reads a person from a delegated token (scopes), and a service principal from an app-only one', () => {
    expect(person).toEqual({ objectId: 'oid-alice', type: 'User', tenantId: TENANT, name: 'alice@contoso.com' });
    expect(signedInPrincipal(token({ oid: 'oid-pipeline', tid: TENANT, idtyp: 'app', roles: [] }))).toMatchObject({ objectId: 'oid-pipeline', type: 'ServicePrincipal', name: undefined });
    expect(signedInPrincipal(token({ oid: 'oid-mi', tid: TENANT }))).toMatchObject({ type: 'ServicePrincipal' });
  });

  it('refuses a token without an object id, and one that is not a JWT', () => {
    expect(() => signedInPrincipal(token({ tid: TENANT }))).toThrow(UnknownPrincipalError);
    expect(() => signedInPrincipal('not-a-jwt')).toThrow(/could not be read/);
  });
});

describe('compareLogins: az and azd act as one', () => {
  const login = (tool: 'az' | 'azd', over: Partial<ToolLogin> = {}): ToolLogin => ({ tool, principal: person, subscriptionId: 'SUB-1', ...over });

  it('accepts the same account on the same subscription (ids compared without case)', () => {
    expect(compareLogins(login('az', { subscriptionId: 'sub-1' }), login('azd'))).toEqual({ same: true, problems: [] });
  });

  it("names the command for another subscription, another account, another tenant, or azd's missing one", () => {
    expect(compareLogins(login('az', { subscriptionId: 'sub-2' }), login('azd')).problems).toEqual(["az acts on subscription sub-2, azd's environment on SUB-1: az account set --subscription SUB-1"]);
    const bob = signedInPrincipal(token({ oid: 'oid-bob', tid: TENANT, scp: 'x', upn: 'bob@contoso.com' }));
    expect(compareLogins(login('az', { principal: bob }), login('azd')).problems[0]).toMatch(/az is signed in as bob@contoso\.com \(object id oid-bob\), azd as alice@contoso\.com/);
    const elsewhere = signedInPrincipal(token({ oid: 'oid-alice', tid: 'other-tenant', scp: 'x' }));
    expect(compareLogins(login('az', { principal: elsewhere }), login('azd')).problems[0]).toMatch(/tenant other-tenant, azd to 11111111/);
    expect(compareLogins(login('az'), login('azd', { subscriptionId: undefined })).problems[0]).toMatch(/azd names no subscription/);
  });
});
