import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * infra/main.bicepparam, the one parameters file of every deployment (azd and az alike), compiled by the real
 * Bicep CLI that `npm run infra:check` restored, with the variables an operator's environment would hold.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const nuget = join(root, '.local', 'nuget', 'azure.bicep.commandline.linux-x64');
const bicep = process.env.BICEP_PATH ?? join(nuget, existsSync(nuget) ? (readdirSync(nuget)[0] ?? '') : '', 'tools', 'bicep');

type Parameters = Record<string, { value: unknown }>;
/** Compiles the parameters file with exactly these variables (none of this shell's others). */
function compile(env: Record<string, string>): { status: number | null; parameters?: Parameters; output: string } {
  const r = spawnSync(bicep, ['build-params', join('infra', 'main.bicepparam'), '--stdout'], {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DOTNET_CLI_TELEMETRY_OPTOUT: '1', ...env },
  });
  const output = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) return { status: r.status, output };
  const compiled = JSON.parse(r.stdout) as { parametersJson: string };
  return { status: r.status, output, parameters: (JSON.parse(compiled.parametersJson) as { parameters: Parameters }).parameters };
}
const values = (p: Parameters | undefined) => Object.fromEntries(Object.entries(p ?? {}).map(([k, v]) => [k, v.value]));
const FIRST = { AZURE_ENV_NAME: 'relay-prod', AZURE_LOCATION: 'westeurope' };

describe('infra/main.bicepparam: the same parameters on every path', () => {
  it('sets only parameters main.bicep declares, and gives azd and az one mapping of variables to parameters', () => {
    const bicepParams = new Set([...read('infra/main.bicep').matchAll(/^param (\w+) /gm)].map((m) => m[1]));
    const mapped = [...read('infra/main.bicepparam').matchAll(/^param (\w+) = /gm)].map((m) => m[1]);
    expect(mapped.length).toBeGreaterThan(10);
    for (const name of mapped) expect(bicepParams.has(name), name).toBe(true);
    expect(existsSync(join(root, 'infra', 'main.parameters.json')), 'a second parameters file would let the paths differ').toBe(false);
  });

  it("keeps an operator's choices (auth mode, app id, vault, partitions, routes) instead of the template's defaults", () => {
    const chosen = compile({
      ...FIRST,
      GRAPH_AUTH_MODE: 'clientsecret',
      GRAPH_APP_ID: '11111111-2222-3333-4444-555555555555',
      GRAPH_CLIENT_SECRET: 's3cret-value',
      KEY_VAULT_NAME: 'kv-relay-kept',
      NOTIFICATIONS_QUEUE_PARTITIONS: '4',
      ROUTES_FILE: 'routes.json',
      MANAGE_SUBSCRIPTIONS: 'true',
      AZURE_PRINCIPAL_ID: 'aaaaaaaa-0000-0000-0000-000000000001',
      AZURE_PRINCIPAL_TYPE: 'ServicePrincipal',
      ALERT_EMAIL_ADDRESS: 'relay-oncall@example.org',
      ALERT_WEBHOOK_URL: 'https://hooks.example.org/relay',
      ALERT_QUEUE_AGE_MINUTES: '20',
      ALERT_SLOW_ANSWER_PERCENT: '7',
      ALERT_GAP_OPEN_MINUTES: '60',
      ALERT_CREDENTIAL_DAYS_LEFT: '21',
      ALERT_SERVER_ERROR_PERCENT: '15',
      ALERT_DELAY_MINUTES: '30',
    });
    expect(chosen.status, chosen.output).toBe(0);
    expect(values(chosen.parameters)).toMatchObject({
      environmentName: 'relay-prod',
      location: 'westeurope',
      graphAuthMode: 'clientsecret',
      graphAppId: '11111111-2222-3333-4444-555555555555',
      graphClientSecret: 's3cret-value',
      keyVaultName: 'kv-relay-kept',
      notificationQueuePartitions: 4,
      routesFile: 'routes.json',
      manageSubscriptions: true,
      deployerPrincipalId: 'aaaaaaaa-0000-0000-0000-000000000001',
      deployerPrincipalType: 'ServicePrincipal',
      alertEmailAddress: 'relay-oncall@example.org',
      alertWebhookUrl: 'https://hooks.example.org/relay',
      alertQueueAgeMinutes: 20,
      alertSlowAnswerPercent: 7,
      alertGapOpenMinutes: 60,
      alertCredentialDaysLeft: 21,
      alertServerErrorPercent: 15,
      alertDelayMinutes: 30,
    });
    // Unset, each takes the same default azd's first deployment had (what npm run infra:check compiled).
    const first = JSON.parse(read('.local/infra/main.parameters.json')) as { parameters: Parameters };
    expect(values(first.parameters)).toMatchObject({ graphAuthMode: 'managedidentity', manageSubscriptions: false, notificationQueuePartitions: 1, keyVaultName: '', deployerPrincipalType: 'User' });
    // No receiver: no alert is deployed (test/infra/alerts.test.ts).
    expect(values(first.parameters)).toMatchObject({
      alertEmailAddress: '',
      alertWebhookUrl: '',
      alertQueueAgeMinutes: 10,
      alertSlowAnswerPercent: 5,
      alertGapOpenMinutes: 120,
      alertCredentialDaysLeft: 30,
      alertServerErrorPercent: 10,
      alertDelayMinutes: 15,
    });
  });

  it('stops, naming the variable, when a required one is missing or a value is not allowed', () => {
    const missing = compile({ AZURE_LOCATION: 'westeurope' });
    expect(missing.status).not.toBe(0);
    expect(missing.output).toMatch(/Environment variable "AZURE_ENV_NAME" does not exist/);
    const wrong = compile({ ...FIRST, GRAPH_AUTH_MODE: 'password' });
    expect(wrong.status).not.toBe(0);
    expect(wrong.output).toMatch(/'clientsecret' \| 'federated' \| 'managedidentity'/);
  });

  it('is what every deployment command of docs/deploy.md uses, with no parameter passed beside it', () => {
    const commands = read('docs/deploy.md')
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .filter((l) => /^\s*az deployment group create\b/.test(l));
    expect(commands.length).toBeGreaterThanOrEqual(2);
    for (const c of commands) {
      expect(c).toMatch(/(-p|--parameters) infra\/main\.bicepparam\b/);
      expect(c.match(/ (-p|--parameters) /g)).toHaveLength(1);
      expect(c).not.toMatch(/ (-f|--template-file) /);
    }
  });
});
