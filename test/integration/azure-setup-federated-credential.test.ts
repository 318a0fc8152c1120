import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { azureCliStandIns, standInFederatedCredentials, type StandInLogin } from '../helpers/azure-cli-stand-ins.js';

const CLI = fileURLToPath(new URL('../../dist/cli/azure-setup.js', import.meta.url));
const TENANT = '11111111-1111-4111-8111-111111111111';
const APP_ID = '22222222-2222-4222-8222-222222222222';
const owner: StandInLogin = { objectId: 'a1a1a1a1-0000-4000-8000-000000000001', tenantId: TENANT, subscriptionId: 'aaaaaaaa-1111-4111-8111-111111111111', upn: 'owner@contoso.com' };
/** The deployment's outputs and settings as azd's hooks, or path B's exported files, hold them. */
const DEPLOYMENT = {
  AZURE_ENV_NAME: 'relay-prod',
  GRAPH_APP_ID: APP_ID,
  MANAGED_IDENTITY_CLIENT_ID: '44444444-4444-4444-8444-444444444444',
  MANAGED_IDENTITY_PRINCIPAL_ID: '55555555-5555-4555-8555-555555555555',
  MANAGED_IDENTITY_ISSUER: `https://login.microsoftonline.com/${TENANT}/v2.0`,
};

describe('npm run azure-setup -- federated-credential, with an az stand-in holding the app registration', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  /** A stand-in az whose app registration APP_ID holds `credentials`; `run` calls the CLI with it first on PATH. */
  const registration = (credentials: Record<string, unknown>[] = []) => {
    const bin = azureCliStandIns({ az: owner, azd: owner }, {}, { [APP_ID]: credentials });
    dirs.push(bin);
    const run = (args: string[] = [], env: Record<string, string> = DEPLOYMENT) =>
      spawnSync(process.execPath, [CLI, 'federated-credential', ...args], { encoding: 'utf8', env: { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '', ...env } });
    return { run, credentials: () => standInFederatedCredentials(bin)[APP_ID] };
  };

  it("creates the credential trusting the deployment's identity from its outputs, then keeps it when run again", () => {
    const app = registration();
    const first = app.run();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain(`federated credential relay-relay-prod of app ${APP_ID}: created`);
    expect(app.credentials()).toEqual([
      expect.objectContaining({
        name: 'relay-relay-prod',
        issuer: DEPLOYMENT.MANAGED_IDENTITY_ISSUER,
        subject: DEPLOYMENT.MANAGED_IDENTITY_PRINCIPAL_ID,
        audiences: ['api://AzureADTokenExchange'],
      }),
    ]);
    const again = app.run();
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('federated credential relay-relay-prod of app 22222222-2222-4222-8222-222222222222: already there, kept');
    expect(app.credentials()).toHaveLength(1);
  });

  it("keeps one an owner made by hand under another name, and gives the US Government cloud's issuer its own audience", () => {
    const byHand = { name: 'relay-managed-identity', issuer: DEPLOYMENT.MANAGED_IDENTITY_ISSUER, subject: DEPLOYMENT.MANAGED_IDENTITY_PRINCIPAL_ID, audiences: ['api://AzureADTokenExchange'] };
    const kept = registration([byHand]);
    expect(kept.run().stdout).toContain('federated credential relay-managed-identity of app 22222222-2222-4222-8222-222222222222: already there, kept');
    expect(kept.credentials()).toEqual([byHand]);

    const usGov = registration();
    const r = usGov.run(['--name', 'relay-gov'], { ...DEPLOYMENT, MANAGED_IDENTITY_ISSUER: `https://login.microsoftonline.us/${TENANT}/v2.0` });
    expect(r.status, r.stderr).toBe(0);
    expect(usGov.credentials()).toEqual([expect.objectContaining({ name: 'relay-gov', audiences: ['api://AzureADTokenExchangeUSGov'] })]);
  });

  it('refuses, naming the command that settles it, a credential of the same name trusting an identity made before', () => {
    const gone = { name: 'relay-relay-prod', issuer: DEPLOYMENT.MANAGED_IDENTITY_ISSUER, subject: '66666666-6666-4666-8666-666666666666', audiences: ['api://AzureADTokenExchange'] };
    const app = registration([gone]);
    const r = app.run();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('trusts another identity (subject 66666666-6666-4666-8666-666666666666');
    expect(r.stderr).toContain(`az ad app federated-credential delete --id ${APP_ID} --federated-credential-id relay-relay-prod`);
    expect(app.credentials()).toEqual([gone]);
  });

  it("says what is missing: the app registration, the identity's outputs; and refuses the identity's own client id as the app", () => {
    const app = registration();
    const { GRAPH_APP_ID: _app, ...noApp } = DEPLOYMENT;
    const withoutApp = app.run([], noApp);
    expect(withoutApp.status).toBe(2);
    expect(withoutApp.stderr).toContain('name the app registration: --app-id or GRAPH_APP_ID');
    const { MANAGED_IDENTITY_ISSUER: _issuer, ...noIssuer } = DEPLOYMENT;
    expect(app.run([], noIssuer).stderr).toContain('MANAGED_IDENTITY_PRINCIPAL_ID and MANAGED_IDENTITY_ISSUER');
    const itself = app.run([], { ...DEPLOYMENT, GRAPH_APP_ID: DEPLOYMENT.MANAGED_IDENTITY_CLIENT_ID });
    expect(itself.status).toBe(2);
    expect(itself.stderr).toContain("GRAPH_APP_ID is the managed identity's own client id");
    const unknown = app.run(['--app-id', '77777777-7777-4777-8777-777777777777']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/az ad app federated-credential failed \(ERROR: Resource '77777777-[^']*' does not exist.*\): is GRAPH_APP_ID the app registration's client id/);
    expect(app.credentials()).toEqual([]);
  });
});
