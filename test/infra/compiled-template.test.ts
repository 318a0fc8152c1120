import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CompiledTemplate, type DeployedStandIns } from '../../dev/azure-stack/compiled-template.js';
import { CompiledTemplateError } from '../../dev/azure-stack/compiled-template-error.js';
import { nonEmpty } from '../helpers/non-empty.js';
import { readArea } from '../../shared/config/settings/define.js';
import { routeSettings } from '../../shared/config/settings/route.js';
import { graphSettings } from '../../shared/config/settings/graph.js';
import { evaluateArm } from '../../dev/azure-stack/arm-expression.js';

/** The ARM template `npm run infra:check` compiled from infra/main.bicep with the real Bicep CLI. */
const path = new URL('../../.local/infra/main.json', import.meta.url).pathname;
const template = (): Record<string, any> => {
  if (!existsSync(path)) throw new Error('No compiled template: npm test runs npm run infra:check first.');
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
};

const deployed: DeployedStandIns = {
  tenantId: '11111111-1111-4111-8111-111111111111',
  loginEndpoint: 'http://127.0.0.1:7072/',
  identity: { clientId: '44444444-4444-4444-8444-444444444444', principalId: '55555555-5555-4555-8555-555555555555' },
  storage: { name: 'relaylocal', blobEndpoint: 'https://127.0.0.1:1/relaylocal/', queueEndpoint: 'https://127.0.0.1:2/relaylocal/', tableEndpoint: 'https://127.0.0.1:3/relaylocal/' },
  monitoring: { appInsightsName: 'appi-local', appInsightsConnectionString: 'InstrumentationKey=k;IngestionEndpoint=https://127.0.0.1:4/' },
  vault: { vaultUri: 'https://127.0.0.1:5/' },
};
const required = { environmentName: 'local' };

describe('the compiled template read as Azure Resource Manager deploys it, with the stand-ins as its resources', () => {
  it("gives the function app the template's settings: identity-based storage, Key Vault references, the stand-ins' endpoints", () => {
    const settings = new CompiledTemplate(template(), { ...required, manageSubscriptions: true, notificationQueuePartitions: 2 }, deployed).appSettings();
    expect(settings).toMatchObject({
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__clientId: deployed.identity.clientId,
      AzureWebJobsStorage__queueServiceUri: deployed.storage.queueEndpoint,
      AzureWebJobsStorage__tableServiceUri: deployed.storage.tableEndpoint,
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `ClientId=${deployed.identity.clientId};Authorization=AAD`,
      GRAPH_CLIENT_STATE: '@Microsoft.KeyVault(SecretUri=https://127.0.0.1:5/secrets/graph-client-state)',
      GRAPH_NOTIFICATION_URL: '@Microsoft.KeyVault(SecretUri=https://127.0.0.1:5/secrets/graph-notification-url)',
      GRAPH_TENANT_IDS: deployed.tenantId,
      GRAPH_JWKS_URL: 'http://127.0.0.1:7072/common/discovery/v2.0/keys',
      KEY_VAULT_URL: deployed.vault.vaultUri,
      NOTIFICATIONS_QUEUE_PARTITIONS: '2',
      // As ARM's string() writes a bool.
      DELETE_UNDESIRED_SUBSCRIPTIONS: 'False',
    });
    expect(nonEmpty(Object.values(settings)).every((v) => typeof v === 'string')).toBe(true);
    expect(JSON.stringify(settings)).not.toMatch(/AccountKey|UseDevelopmentStorage|AzureWebJobsStorage"/);
    // Without manageSubscriptions the keyed URLs are not set at all.
    expect(new CompiledTemplate(template(), required, deployed).appSettings()).not.toHaveProperty('GRAPH_NOTIFICATION_URL');
  });

  it('assigns the built-in roles by name to the identity, and to the deployer when one is named', () => {
    const roles = (p: Record<string, unknown>) => new CompiledTemplate(template(), { ...required, ...p }, deployed).roleAssignments();
    expect(roles({})).toEqual(
      expect.arrayContaining([
        { scope: 'storage', role: 'Storage Queue Data Contributor', principalId: deployed.identity.principalId },
        { scope: 'vault', role: 'Key Vault Secrets User', principalId: deployed.identity.principalId },
        { scope: 'appInsights', role: 'Monitoring Metrics Publisher', principalId: deployed.identity.principalId },
      ]),
    );
    expect(roles({}).some((r) => r.principalId !== deployed.identity.principalId)).toBe(false);
    expect(
      roles({ deployerPrincipalId: 'd' })
        .filter((r) => r.principalId === 'd')
        .map((r) => r.role),
    ).toEqual(['Key Vault Certificates Officer', 'Key Vault Secrets Officer']);
  });

  it("creates each partition's queue and its poison queue", () => {
    const { queues, tables } = new CompiledTemplate(template(), { ...required, notificationQueuePartitions: 3 }, deployed).storageResources();
    expect(queues).toEqual(expect.arrayContaining(['graph-notifications', 'graph-notifications-1', 'graph-notifications-2-poison', 'teams-chat-messages']));
    expect(tables).toContain('routedevents');
  });

  it("gives EVENT_TTL_SECONDS a value the app accepts for every eventTtlSeconds the template accepts: 0 and -1 are the app's -1, never expire", () => {
    const ttl = (eventTtlSeconds: number) => new CompiledTemplate(template(), { ...required, eventTtlSeconds }, deployed).appSettings();
    const cases = [
      { given: -1, setting: '-1', read: -1 },
      { given: 0, setting: '-1', read: -1 },
      { given: 1, setting: '1', read: 1 },
      { given: 2_147_483_647, setting: '2147483647', read: 2_147_483_647 },
    ];
    for (const { given, setting, read } of cases) {
      const settings = ttl(given);
      expect(settings.EVENT_TTL_SECONDS, String(given)).toBe(setting);
      // The app's own validation at start reads the template's settings.
      expect(readArea(routeSettings, settings), String(given)).toMatchObject({ ok: true, slice: { eventTtlSeconds: read } });
    }
    // What the app refuses, the template refuses before deploying.
    expect(() => ttl(-2)).toThrow('Parameter eventTtlSeconds is below -1.');
    expect(() => ttl(2_147_483_648)).toThrow('Parameter eventTtlSeconds is above 2147483647.');
  });

  it('signs in as the app registration with federated: GRAPH_AUTH_MODE, GRAPH_APP_ID, and the identity whose token is the assertion', () => {
    const APP_ID = '66666666-6666-4666-8666-666666666666';
    const settings = new CompiledTemplate(template(), { ...required, graphAuthMode: 'federated', graphAppId: APP_ID }, deployed).appSettings();
    expect(settings).toMatchObject({ GRAPH_AUTH_MODE: 'federated', GRAPH_APP_ID: APP_ID, AZURE_CLIENT_ID: deployed.identity.clientId });
    expect(settings).not.toHaveProperty('GRAPH_CLIENT_SECRET');
    // The app's own validation at start takes the mode.
    expect(readArea(graphSettings, settings)).toMatchObject({ ok: true, slice: { graphAuth: { mode: 'federated' } } });
    // managedidentity alone stands in for an empty graphAppId: federated without it reaches the template's fail().
    expect(new CompiledTemplate(template(), required, deployed).appSettings()).toMatchObject({ GRAPH_AUTH_MODE: 'managedidentity', GRAPH_APP_ID: deployed.identity.clientId });
    for (const graphAuthMode of ['federated', 'clientsecret']) {
      expect(() => new CompiledTemplate(template(), { ...required, graphAuthMode }, deployed).appSettings(), graphAuthMode).toThrow('ARM function fail() is not known');
    }
    expect(JSON.stringify(template())).toContain('graphAppId (GRAPH_APP_ID) is required with graphAuthMode {0}: the client id of the Entra app registration');
  });

  it("outputs what the federated credential names: the identity's principal id as subject, and its tokens' issuer", () => {
    const t = template();
    const scope = {
      parameters: {},
      variable: () => undefined,
      reference: (name: string) => (name === 'identity' ? deployed.identity : undefined),
      context: { tenant: { tenantId: deployed.tenantId }, environment: { authentication: { loginEndpoint: 'https://login.microsoftonline.us/' } } },
    };
    expect(evaluateArm(t.outputs.MANAGED_IDENTITY_PRINCIPAL_ID.value, scope)).toBe(deployed.identity.principalId);
    // The cloud's own login endpoint: the US Government's here.
    expect(evaluateArm(t.outputs.MANAGED_IDENTITY_ISSUER.value, scope)).toBe(`https://login.microsoftonline.us/${deployed.tenantId}/v2.0`);
    expect(t.parameters.graphAuthMode.allowedValues).toEqual(['managedidentity', 'federated', 'clientsecret']);
  });

  it('refuses a parameter the template does not declare, one out of its bounds, a required one missing, and a role id Azure has no built-in role for', () => {
    expect(() => new CompiledTemplate(template(), { ...required, graphClientStat: 'x' }, deployed)).toThrow(/no parameter graphClientStat/);
    expect(() => new CompiledTemplate(template(), { ...required, claimCheckRetentionDays: 7 }, deployed).appSettings()).toThrow('Parameter claimCheckRetentionDays is below 14.');
    expect(() => new CompiledTemplate(template(), { ...required, graphAuthMode: 'password' }, deployed).appSettings()).toThrow(/Parameter graphAuthMode is "password", not one of its allowed values/);
    expect(() => new CompiledTemplate(template(), {}, deployed).appSettings()).toThrow('Parameter environmentName has no value and no default.');
    const t = template();
    t.variables.roles.storageQueueDataContributor = '00000000-0000-0000-0000-000000000000';
    expect(() => new CompiledTemplate(t, required, deployed).roleAssignments()).toThrow(CompiledTemplateError);
  });
});
