import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { azureCliStandIns, type StandInLogin } from '../helpers/azure-cli-stand-ins.js';

const CLI = fileURLToPath(new URL('../../dist/cli/azure-setup.js', import.meta.url));
const TENANT = '11111111-1111-4111-8111-111111111111';
const alice: StandInLogin = { objectId: 'a1a1a1a1-0000-4000-8000-000000000001', tenantId: TENANT, subscriptionId: 'aaaaaaaa-1111-4111-8111-111111111111', upn: 'alice@contoso.com' };

describe('npm run azure-setup -- check-login, with az and azd stand-ins on PATH', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const checkLogin = (logins: { az: StandInLogin; azd: StandInLogin }, env: Record<string, string> = {}) => {
    const bin = azureCliStandIns(logins);
    dirs.push(bin);
    return spawnSync(process.execPath, [CLI, 'check-login'], { encoding: 'utf8', env: { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '', ...env } });
  };

  it('passes when both act as the same account on the subscription of azd’s environment (asked of azd when the hook did not pass it)', () => {
    const r = checkLogin({ az: alice, azd: alice });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`az and azd: the same account (alice@contoso.com) on subscription ${alice.subscriptionId}`);
  });

  it("fails naming the command when az's default subscription is another than azd's environment's", () => {
    const r = checkLogin({ az: { ...alice, subscriptionId: 'bbbbbbbb-2222-4222-8222-222222222222' }, azd: alice }, { AZURE_SUBSCRIPTION_ID: alice.subscriptionId });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`az account set --subscription ${alice.subscriptionId}`);
  });

  it('fails naming both accounts when az and azd are signed in as different people', () => {
    const r = checkLogin({ az: { ...alice, objectId: 'b0b0b0b0-0000-4000-8000-000000000002', upn: 'bob@contoso.com' }, azd: alice });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/az is signed in as bob@contoso\.com \(object id b0b0b0b0-[^)]*\), azd as alice@contoso\.com/);
  });

  it('says what to do when az is not installed', () => {
    const r = spawnSync(process.execPath, [CLI, 'check-login'], { encoding: 'utf8', env: { PATH: '/nonexistent', HOME: process.env.HOME ?? '' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('az (the Azure CLI) is not on PATH');
  });

  it("outputs writes the deployment's outputs as environment-file lines, whatever casing Resource Manager gave their names, and refuses missing ones", () => {
    const outputs = {
      functioN_APP_NAME: { type: 'String', value: 'func-relay-abc' },
      KEY_VAULT_NAME: { type: 'String', value: 'kv-relayabc' },
      KEY_VAULT_URI: { type: 'String', value: 'https://kv-relayabc.vault.azure.net/' },
      NOTIFICATION_URL: { type: 'String', value: 'https://func-relay-abc.azurewebsites.net/api/notifications' },
      LIFECYCLE_URL: { type: 'String', value: 'https://func-relay-abc.azurewebsites.net/api/lifecycle' },
      MANAGED_IDENTITY_PRINCIPAL_ID: { type: 'String', value: 'p-1' },
      STORAGE_ACCOUNT_NAME: { type: 'String', value: 'strelayabc' },
      MANAGE_SUBSCRIPTIONS: { type: 'Bool', value: false },
    };
    const run = (o: Record<string, unknown>) => {
      const bin = azureCliStandIns({ az: alice, azd: alice }, o);
      dirs.push(bin);
      return spawnSync(process.execPath, [CLI, 'outputs', '--resource-group', 'rg-relay'], {
        encoding: 'utf8',
        env: { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '' },
      });
    };
    const r = run(outputs);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toEqual(expect.arrayContaining(['FUNCTION_APP_NAME="func-relay-abc"', 'MANAGE_SUBSCRIPTIONS="false"', 'KEY_VAULT_URI="https://kv-relayabc.vault.azure.net/"']));
    const { STORAGE_ACCOUNT_NAME: _left, ...partial } = outputs;
    const missing = run(partial);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("the deployment's outputs lack STORAGE_ACCOUNT_NAME");
    expect(missing.stdout).toBe('');
  });

  it('whoami --credential az reads the person behind az, for deployerPrincipalId and deployerPrincipalType', () => {
    const bin = azureCliStandIns({ az: alice, azd: alice });
    dirs.push(bin);
    const run = (field: string) =>
      spawnSync(process.execPath, [CLI, 'whoami', '--credential', 'az', '--field', field], {
        encoding: 'utf8',
        env: { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '' },
      });
    expect(run('objectId').stdout).toBe(`${alice.objectId}\n`);
    expect(run('type').stdout).toBe('User\n');
  });
});
