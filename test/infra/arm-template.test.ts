import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTING_DEFINITIONS } from '../../shared/config/settings.js';
import { MIN_CLAIM_CHECK_RETENTION_DAYS } from '../../shared/queue/claim-check-retention.js';
import { evaluateArm, type ArmScope } from '../../dev/azure-stack/arm-expression.js';
import { DEFAULT_QUEUES } from '../../shared/kinds/teams-kinds.js';
import { nonEmpty } from '../helpers/non-empty.js';
import { deep, moduleScope, outputs, resources, template, type Json } from '../helpers/compiled-arm-template.js';
import { TRIGGER_SETTINGS } from '../../shared/config/trigger-settings.js';

const text = () => JSON.stringify(template());

describe('infra/main.bicep compiled', () => {
  it('puts the app on Flex Consumption, Node 22, with a user-assigned identity', () => {
    const all = resources(template());
    const plan = all.find((r) => r.type === 'Microsoft.Web/serverfarms');
    expect(plan?.sku).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
    const site = all.find((r) => r.type === 'Microsoft.Web/sites');
    expect(site?.kind).toBe('functionapp,linux');
    expect(site?.identity.type).toBe('UserAssigned');
    expect(site?.properties.functionAppConfig.runtime).toEqual({ name: 'node', version: '22' });
    expect(site?.properties.functionAppConfig.deployment.storage.authentication.type).toBe('UserAssignedIdentity');
    expect(JSON.stringify(site)).not.toMatch(/FUNCTIONS_WORKER_RUNTIME|WEBSITE_RUN_FROM_PACKAGE|WEBSITE_CONTENT|linuxFxVersion|alwaysOn/);
  });

  it('reaches storage by identity only: no shared key, identity-based AzureWebJobsStorage settings', () => {
    const storage = resources(template()).find((r) => r.type === 'Microsoft.Storage/storageAccounts');
    expect(storage?.properties.allowSharedKeyAccess).toBe(false);
    expect(storage?.properties.allowBlobPublicAccess).toBe(false);
    const t = text();
    for (const s of [
      'AzureWebJobsStorage__credential',
      'AzureWebJobsStorage__clientId',
      'AzureWebJobsStorage__blobServiceUri',
      'AzureWebJobsStorage__queueServiceUri',
      'AzureWebJobsStorage__tableServiceUri',
    ]) {
      expect(t).toContain(s);
    }
    expect(t).not.toMatch(/AccountKey=|listKeys\(/);
  });

  it("creates the app's queues, poison and dead-letter queues, containers and tables", () => {
    const t = text();
    for (const name of [
      'graph-notifications',
      'graph-lifecycle',
      'graph-notifications-deadletter',
      ...Object.values(DEFAULT_QUEUES),
      'teams-subscription-events',
      'graph-notification-payloads',
      'teams-event-payloads',
      'teams-change-relay-locks',
      'routedevents',
      'subscriptions',
    ]) {
      expect(t).toContain(name);
    }
    expect(t).toContain('-poison');
    const types = new Set(resources(template()).map((r) => r.type));
    for (const type of [
      'Microsoft.Storage/storageAccounts/queueServices/queues',
      'Microsoft.Storage/storageAccounts/blobServices/containers',
      'Microsoft.Storage/storageAccounts/tableServices/tables',
    ])
      expect(types).toContain(type);
  });

  it('sets each app setting the host resolves for a trigger (%SETTING% in a queue name or schedule): the host knows no app default', () => {
    const s = text();
    for (const name of TRIGGER_SETTINGS) expect(s).toMatch(new RegExp(`'${name}', (variables\\('queueNames'\\)\\.\\w+|'[^']+')`));
  });

  it('creates one incoming queue (and its poison queue) per NOTIFICATIONS_QUEUE_PARTITIONS, passing the count to the app', () => {
    const t = template();
    expect(t.parameters.notificationQueuePartitions).toMatchObject({ type: 'int', defaultValue: 1, minValue: 1, maxValue: 32 });
    // Partition 0 is graph-notifications itself; the others are numbered from 1 (shared/queue/notification-queues.ts).
    const extra = (t.variables.copy as Json[]).find((c) => c.name === 'extraNotificationQueues');
    expect(extra?.count).toBe("[length(range(1, sub(parameters('notificationQueuePartitions'), 1)))]");
    expect(extra?.input).toContain("format('{0}-{1}', variables('queueNames').notifications");
    const s = text();
    expect(s).toContain("variables('extraNotificationQueues')");
    expect(s).toContain("'NOTIFICATIONS_QUEUE_PARTITIONS', string(parameters('notificationQueuePartitions'))");
  });

  it('expires claim-check blobs with a lifecycle rule of CLAIM_CHECK_RETENTION_DAYS (at least 14), event payloads with theirs', () => {
    const t = template();
    // The same least value as the app's setting: the rule must not delete what the app keeps.
    expect(t.parameters.claimCheckRetentionDays).toMatchObject({ type: 'int', defaultValue: 30, minValue: MIN_CLAIM_CHECK_RETENTION_DAYS, maxValue: 36500 });
    const storage = resources(t).find((r) => r.type === 'Microsoft.Resources/deployments' && r.name === 'storage');
    expect(storage?.properties.parameters).toMatchObject({
      claimCheckContainer: { value: "[variables('containerNames').claimChecks]" },
      claimCheckRetentionDays: { value: "[parameters('claimCheckRetentionDays')]" },
    });
    expect(t.variables.containerNames.claimChecks).toBe('graph-notification-payloads');
    expect(text()).toContain("'CLAIM_CHECK_RETENTION_DAYS', string(parameters('claimCheckRetentionDays'))");
    // The rule: block blobs under the container, deleted N days after they were last written.
    const rule = storage?.properties.template.functions[0].members.deleteAfter;
    expect(rule.output.value).toEqual({
      enabled: true,
      name: "[parameters('name')]",
      type: 'Lifecycle',
      definition: {
        filters: { blobTypes: ['blockBlob'], prefixMatch: ["[format('{0}/', parameters('container'))]"] },
        actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: "[parameters('days')]" } } },
      },
    });
    const policy = resources(t).find((r) => r.type === 'Microsoft.Storage/storageAccounts/managementPolicies');
    expect(policy?.condition).toBeUndefined(); // always deployed: the claim-check rule always applies
    expect(policy?.properties.policy.rules).toBe(
      "[concat(createArray(__bicep.deleteAfter('delete-claim-checks', parameters('claimCheckContainer'), parameters('claimCheckRetentionDays'))), " +
        "if(greater(parameters('eventPayloadRetentionDays'), 0), createArray(__bicep.deleteAfter('delete-event-payloads', parameters('eventPayloadContainer'), parameters('eventPayloadRetentionDays'))), createArray()))]",
    );
  });

  it('uses Key Vault in RBAC mode, with secrets as Key Vault references', () => {
    const all = resources(template());
    expect(all.find((r) => r.type === 'Microsoft.KeyVault/vaults')?.properties.enableRbacAuthorization).toBe(true);
    const secretNames = all.filter((r) => r.type === 'Microsoft.KeyVault/vaults/secrets').map((r) => String(r.name));
    // The client secret is written only when given (a later deployment without it keeps the vault's); the
    // clientState never is (next test). Both settings reference their secret by name.
    const clientSecret = all.filter((r) => r.type === 'Microsoft.KeyVault/vaults/secrets' && String(r.name).includes("variables('clientSecretSecretName')"));
    expect(clientSecret.map((r) => r.condition)).toEqual(["[and(equals(parameters('graphAuthMode'), 'clientsecret'), not(empty(parameters('graphClientSecret'))))]"]);
    expect(secretNames).toHaveLength(1);
    expect(template().variables).toMatchObject({ clientSecretSecretName: 'graph-client-secret' });
    const t = text();
    expect(t).toContain("'GRAPH_CLIENT_SECRET', __bicep.keyVaultReference(format('{0}secrets/{1}', reference('vault').vaultUri, variables('clientSecretSecretName')))");
    expect(t).toContain("'GRAPH_CLIENT_STATE', __bicep.keyVaultReference(format('{0}secrets/{1}', reference('vault').vaultUri, variables('clientStateSecretName')))");
    expect(t).toContain('@Microsoft.KeyVault(SecretUri=');
    expect(all.find((r) => r.type === 'Microsoft.Web/sites')?.properties.keyVaultReferenceIdentity).toBeDefined();
  });

  it('never writes the clientState: it references the secret created once in the vault, so no deployment replaces it', () => {
    const all = resources(template());
    const secretNames = all.filter((r) => r.type === 'Microsoft.KeyVault/vaults/secrets').map((r) => String(r.name));
    expect(secretNames.filter((n) => /client-state|clientState/i.test(n))).toEqual([]);
    expect(template().variables).toMatchObject({ clientStateSecretName: 'graph-client-state' });
    expect(Object.keys(template().parameters as Json).filter((p) => /clientstate/i.test(p))).toEqual([]);
  });

  it('sets no function key: the keyed notification URLs are secrets the operator stores after publish, read once manageSubscriptions is on', () => {
    const all = resources(template());
    expect(all.filter((r) => /functionKeys|host\/keys|\/host\//i.test(String(r.type)))).toEqual([]);
    const sources = ['main.bicep', ...readdirSync(new URL('../../infra/modules/', import.meta.url)).map((f) => `modules/${f}`)];
    for (const f of sources) expect(readFileSync(new URL(`../../infra/${f}`, import.meta.url), 'utf8'), f).not.toMatch(/BCP081|functionKeys/);
    const secretNames = all.filter((r) => r.type === 'Microsoft.KeyVault/vaults/secrets').map((r) => String(r.name));
    expect(secretNames.filter((n) => /url/.test(n))).toEqual([]);
    const t = text();
    expect(t).toMatch(
      /if\(parameters\('manageSubscriptions'\), createObject\('GRAPH_NOTIFICATION_URL', __bicep\.keyVaultReference\(format\('\{0\}secrets\/\{1\}', reference\('vault'\)\.vaultUri, variables\('notificationUrlSecretName'\)\)\), 'GRAPH_LIFECYCLE_URL', __bicep\.keyVaultReference\(format\('\{0\}secrets\/\{1\}', reference\('vault'\)\.vaultUri, variables\('lifecycleUrlSecretName'\)\)\), 'SUBSCRIPTIONS_FILE', parameters\('subscriptionsFile'\)\), createObject\(\)\)/,
    );
    expect(template().variables).toMatchObject({ notificationUrlSecretName: 'graph-notification-url', lifecycleUrlSecretName: 'graph-lifecycle-url' });
    expect((template().parameters as Json).manageSubscriptions).toMatchObject({ type: 'bool', defaultValue: false });
  });

  it("takes the deployer's principal type as a parameter (a person or a pipeline)", () => {
    const params = template().parameters as Json;
    expect(params.deployerPrincipalType).toMatchObject({ type: 'string', defaultValue: 'User', allowedValues: ['User', 'ServicePrincipal'] });
    expect(text()).toContain("'principalType', parameters('deployerPrincipalType')");
    // The app's own identity stays a service principal; nothing else says 'User'.
    expect(text().match(/'User'/g) ?? []).toEqual([]);
  });

  it('names resources from the lower-cased environment name; storage and vault names fit 24 characters without punctuation', () => {
    const vars = template().variables as Json;
    expect(vars.envName).toBe("[toLower(parameters('environmentName'))]");
    expect(vars.envAlphanumeric).toBe("[replace(replace(replace(variables('envName'), '-', ''), '_', ''), '.', '')]");
    for (const r of resources(template())) expect(JSON.stringify(r.name ?? ''), r.type).not.toContain("parameters('environmentName')");
    const t = text();
    expect(t).toContain("take(variables('envAlphanumeric'), sub(sub(24, length(variables('abbrs').storageAccount)), length(variables('resourceToken'))))");
    expect(t).toContain("take(variables('envAlphanumeric'), sub(sub(24, length(variables('abbrs').keyVault)), length(variables('resourceToken'))))");
    const vault = resources(template()).find((r) => r.type === 'Microsoft.KeyVault/vaults');
    expect(vault?.name).toMatch(/^\[if\(empty\(parameters\('keyVaultName'\)\)/);
    expect(vault?.properties.enablePurgeProtection).toBe("[if(parameters('keyVaultPurgeProtection'), true(), null())]");
  });

  it('assigns the data, monitoring and Key Vault roles in one place, by loop, with deterministic names', () => {
    const t = text();
    for (const role of [
      'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
      '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
      '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
      '3913510d-42f4-4e42-8a64-420c390055eb',
      'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba',
      '4633458b-17de-408a-b874-0445c86b69e6',
    ]) {
      expect(t).toContain(role);
    }
    const assignments = resources(template()).filter((r) => r.type === 'Microsoft.Authorization/roleAssignments');
    expect(assignments).toHaveLength(3);
    expect(t).toContain('b86a8fe4-44ce-4948-aee5-eccb2c155cd7'); // Key Vault Secrets Officer: the deployer stores the keyed URLs
    expect(t).toContain('a4417e6f-fecd-4de8-b567-7b0420556985'); // Key Vault Certificates Officer: the deployer creates the certificate
    for (const a of assignments) {
      expect(a.copy).toBeDefined();
      expect(a.name).toMatch(/^\[guid\(/);
    }
  });

  it('sets every app setting the README table lists, except those that do not apply in Azure', () => {
    const t = text();
    // AZURE_AUTHORITY_HOST is for sovereign clouds and the local stack; infra/ deploys to the public cloud.
    const notInAzure = new Set(['AzureWebJobsStorage', 'AzureWebJobsStorage__accountName', 'LOCAL_CERTIFICATE_DIR', 'GRAPH_CLIENT_CERTIFICATE_PATH', 'AZURE_AUTHORITY_HOST']);
    for (const { name } of SETTING_DEFINITIONS) if (!notInAzure.has(name)) expect(t, name).toMatch(new RegExp(`'${name}'|"${name}"`));
  });

  it('outputs the app, its URLs and the vault, and no secret', () => {
    const outputs = template().outputs as Json;
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining([
        'FUNCTION_APP_NAME',
        'FUNCTION_APP_URL',
        'NOTIFICATION_URL',
        'LIFECYCLE_URL',
        'NOTIFICATION_URL_SECRET',
        'LIFECYCLE_URL_SECRET',
        'KEY_VAULT_URI',
        'KEY_VAULT_NAME',
        'MANAGED_IDENTITY_PRINCIPAL_ID',
        'STORAGE_ACCOUNT_NAME',
        'AZURE_RESOURCE_GROUP',
      ]),
    );
    const params = template().parameters as Json;
    const secure = Object.keys(params).filter((p) => params[p].type === 'securestring');
    expect(secure.sort()).toEqual(['alertWebhookUrl', 'graphClientSecret']);
    const values = JSON.stringify(Object.values(outputs).map((o: Json) => o.value));
    for (const p of secure) expect(values).not.toContain(p);
    expect(values).not.toMatch(/code=|listKeys|listSecrets|secretUri/i);
  });

  describe('restrictToGraph: only Graph (and operators) may call the app', () => {
    /** The site's siteConfig as deployed for these parameter values, the compiled expressions evaluated. */
    function siteConfigFor(parameters: Record<string, unknown>): Json {
      const t = template();
      const main: ArmScope = { parameters, variable: (name) => evaluateArm(t.variables[name], main) };
      const deployment = resources(t).find((r) => r.type === 'Microsoft.Resources/deployments' && r.name === 'function-app')!;
      // Evaluated when read: only what siteConfig uses.
      const moduleParameters = new Proxy({}, { get: (_, name: string) => evaluateArm((deployment.properties.parameters as Json)[name]?.value, main) });
      const site = resources(deployment.properties.template).find((r) => r.type === 'Microsoft.Web/sites')!;
      // appSettingList is a copy loop, not what is tested here.
      const inModule: ArmScope = { parameters: moduleParameters, variable: (name) => (name === 'appSettingList' ? [] : evaluateArm(deployment.properties.template.variables[name], inModule)) };
      return evaluateArm(site.properties.siteConfig, inModule) as Json;
    }
    const graphAddresses = (JSON.parse(readFileSync(new URL('../../infra/graph-notification-sources.json', import.meta.url), 'utf8')) as { publicCloud: string[] }).publicCloud;

    it('is off by default, and off deploys no access restriction at all', () => {
      const params = template().parameters as Json;
      expect(params.restrictToGraph.defaultValue).toBe(false);
      expect(params.operatorCidrs.defaultValue).toBe('');
      const config = siteConfigFor({ restrictToGraph: false, operatorCidrs: '203.0.113.0/24' });
      expect(config.minTlsVersion).toBe('1.2');
      expect(Object.keys(config).sort()).toEqual(['appSettings', 'minTlsVersion']);
    });

    it("on, allows Graph's published addresses and the operators' ranges and denies everything else; the deployment site keeps its own rules", () => {
      expect(graphAddresses.length).toBeGreaterThan(50);
      const config = siteConfigFor({ restrictToGraph: true, operatorCidrs: '203.0.113.0/24, 198.51.100.7/32,' });
      expect(config.ipSecurityRestrictionsDefaultAction).toBe('Deny');
      expect(config.scmIpSecurityRestrictionsUseMain).toBe(false);
      const rules = config.ipSecurityRestrictions as Json[];
      expect(nonEmpty(rules).every((r) => r.action === 'Allow')).toBe(true);
      expect(rules.filter((r) => r.name === 'graph-change-notifications').map((r) => r.ipAddress)).toEqual(graphAddresses.map((a) => `${a}/32`));
      expect(rules.filter((r) => r.name === 'operators').map((r) => r.ipAddress)).toEqual(['203.0.113.0/24', '198.51.100.7/32']);
      expect(rules).toHaveLength(graphAddresses.length + 2);
    });

    it("on, and only then, turns the app's own pre-create endpoint check off: the restriction refuses the app's calls to itself", () => {
      const t = template();
      const scope = (restrictToGraph: boolean): ArmScope => ({ parameters: { restrictToGraph }, variable: (name) => evaluateArm(t.variables[name], scope(restrictToGraph)) });
      expect(evaluateArm(t.variables.endpointCheckSettings, scope(true))).toEqual({ SUBSCRIPTIONS_CHECK_ENDPOINTS: 'false' });
      expect(evaluateArm(t.variables.endpointCheckSettings, scope(false))).toEqual({});
      // The app settings take it in, and nothing else sets it (the app's default is true).
      const deployment = resources(t).find((r) => r.type === 'Microsoft.Resources/deployments' && r.name === 'function-app')!;
      expect(deployment.properties.parameters.appSettings.value).toMatch(/^\[union\(.*, variables\('endpointCheckSettings'\), /);
      expect(text().match(/SUBSCRIPTIONS_CHECK_ENDPOINTS/g)).toHaveLength(1);
    });
  });

  const siteOf = (module: Json) => resources(module).find((r) => r.type === 'Microsoft.Web/sites')!;
  const appSubnetId = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/function-app';
  const withNetwork = { privateNetwork: outputs({ appSubnetId }) };

  describe('privateNetworking: storage and Key Vault closed to the public network', () => {
    /** The storage account's and the vault's network rules, and the site's subnet, for these parameters. */
    function networkFor(parameters: Record<string, unknown>) {
      const storage = moduleScope('storage', parameters);
      const account = resources(storage.module).find((r) => r.type === 'Microsoft.Storage/storageAccounts')!;
      const app = moduleScope('function-app', parameters, withNetwork);
      const vault = resources(template()).find((r) => r.type === 'Microsoft.KeyVault/vaults')!;
      return {
        storage: { publicNetworkAccess: account.properties.publicNetworkAccess, networkAcls: deep(account.properties.networkAcls, storage.scope) as Json },
        vault: { publicNetworkAccess: vault.properties.publicNetworkAccess, networkAcls: deep(vault.properties.networkAcls, storage.main) as Json },
        subnet: evaluateArm(siteOf(app.module).properties.virtualNetworkSubnetId, app.scope),
        networkDeployed: moduleScope('private-network', parameters).module.condition,
      };
    }

    it('is off by default, and off deploys no network, no private endpoint, no subnet on the site, and leaves both open as Azure does by default', () => {
      expect(template().parameters.privateNetworking).toMatchObject({ type: 'bool', defaultValue: false });
      const off = networkFor({ operatorCidrs: '203.0.113.0/24' });
      expect(off.networkDeployed).toBe(false);
      expect(off.subnet).toBeNull();
      for (const service of [off.storage, off.vault]) expect(service).toEqual({ publicNetworkAccess: 'Enabled', networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' } });
      // Every network resource is in the private-network module, which off does not deploy.
      const outside = resources({ resources: Object.values(template().resources).filter((r: any) => r.name !== 'private-network') });
      expect(outside.filter((r) => String(r.type).startsWith('Microsoft.Network/'))).toEqual([]);
    });

    it("on, denies public access to storage except trusted services and operatorCidrs, keeps the vault reachable for Key Vault references, and integrates the site into the network's app subnet", () => {
      const on = networkFor({ privateNetworking: true, operatorCidrs: '203.0.113.0/24, 198.51.100.7/32,' });
      expect(on.networkDeployed).toBe(true);
      expect(on.subnet).toBe(appSubnetId);
      // publicNetworkAccess stays Enabled: Disabled would refuse the operators' addresses too.
      expect(on.storage).toEqual({
        publicNetworkAccess: 'Enabled',
        networkAcls: {
          defaultAction: 'Deny',
          bypass: 'AzureServices',
          // The storage firewall takes a single address without /32.
          ipRules: [
            { value: '203.0.113.0/24', action: 'Allow' },
            { value: '198.51.100.7', action: 'Allow' },
          ],
        },
      });
      // Flex Consumption resolves no Key Vault reference to a network-restricted vault: the app would not start.
      expect(on.vault).toEqual({ publicNetworkAccess: 'Enabled', networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' } });
      // The site itself stays public (Graph calls it); access restrictions remain restrictToGraph's alone.
      expect(networkFor({ privateNetworking: true, restrictToGraph: false }).subnet).toBe(appSubnetId);
    });

    it('on, creates the network with a subnet delegated to Microsoft.App/environments and one for the private endpoints', () => {
      const { module, scope } = moduleScope('private-network', { privateNetworking: true, privateNetworkAddressSpace: '10.20.0.0/16' }, { storage: outputs({ name: 'stx' }) });
      const network = deep(resources(module).find((r) => r.type === 'Microsoft.Network/virtualNetworks')!.properties, scope) as Json;
      expect(network.addressSpace).toEqual({ addressPrefixes: ['10.20.0.0/16'] });
      expect(network.subnets).toEqual([
        { name: 'function-app', properties: { addressPrefix: '10.20.0.0/24', delegations: [{ name: 'flex-consumption', properties: { serviceName: 'Microsoft.App/environments' } }] } },
        { name: 'private-endpoints', properties: { addressPrefix: '10.20.1.0/24', privateEndpointNetworkPolicies: 'Disabled' } },
      ]);
      expect(template().parameters.privateNetworkAddressSpace.defaultValue).toBe('10.0.0.0/23');
    });

    it('on, gives blob, queue, table and the vault each a private endpoint, registered in its privatelink zone, the zone linked to the network', () => {
      const { module, scope } = moduleScope('private-network', { privateNetworking: true }, { storage: outputs({ name: 'stx' }) });
      const all = resources(module);
      const endpoints = evaluateArm(module.variables.endpoints, scope) as Json[];
      /** A looped resource's value for each endpoint, as ARM's copy loop deploys it. */
      const each = (type: string, pick: (r: Json) => unknown) => {
        const r = all.find((x) => x.type === type)!;
        expect(evaluateArm(r.copy.count, scope)).toBe(endpoints.length);
        return endpoints.map((_, i) => deep(pick(r), { ...scope, copyIndex: () => i }));
      };
      expect(each('Microsoft.Network/privateDnsZones', (r) => r.name)).toEqual([
        'privatelink.blob.core.windows.net',
        'privatelink.queue.core.windows.net',
        'privatelink.table.core.windows.net',
        'privatelink.vaultcore.azure.net',
      ]);
      const storageId = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/';
      const connections = each('Microsoft.Network/privateEndpoints', (r) => r.properties.privateLinkServiceConnections[0].properties) as Json[];
      expect(connections.map((c) => c.groupIds)).toEqual([['blob'], ['queue'], ['table'], ['vault']]);
      expect(connections.map((c) => String(c.privateLinkServiceId).replace(/[^/]+$/, ''))).toEqual([
        storageId,
        storageId,
        storageId,
        '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/',
      ]);
      expect(each('Microsoft.Network/privateEndpoints', (r) => r.properties.subnet.id)[0]).toMatch(/\/virtualNetworks\/vnet-[^/]+\/subnets\/private-endpoints$/);
      expect(each('Microsoft.Network/privateEndpoints/privateDnsZoneGroups', (r) => r.properties.privateDnsZoneConfigs[0].properties.privateDnsZoneId)).toEqual(
        ['blob', 'queue', 'table']
          .map((s) => `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/privateDnsZones/privatelink.${s}.core.windows.net`)
          .concat('/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net'),
      );
      const links = each('Microsoft.Network/privateDnsZones/virtualNetworkLinks', (r) => r.properties) as Json[];
      expect(new Set(links.map((l) => l.virtualNetwork.id)).size).toBe(1);
      expect(nonEmpty(links).every((l) => /\/virtualNetworks\/vnet-/.test(l.virtualNetwork.id) && l.registrationEnabled === false)).toBe(true);
    });
  });

  describe('httpAlwaysReadyInstances', () => {
    const scaleFor = (parameters: Record<string, unknown>) => {
      const { module, scope } = moduleScope('function-app', parameters);
      return evaluateArm(siteOf(module).properties.functionAppConfig.scaleAndConcurrency, scope);
    };

    it('is 0 by default and 0 keeps no instance ready: the scale settings are the same as without it', () => {
      expect(template().parameters.httpAlwaysReadyInstances).toMatchObject({ type: 'int', defaultValue: 0, minValue: 0 });
      expect(scaleFor({})).toEqual({ maximumInstanceCount: 100, instanceMemoryMB: 2048 });
    });

    it('keeps that many instances of the HTTP scale group ready', () => {
      expect(scaleFor({ httpAlwaysReadyInstances: 2, instanceMemoryMB: 512 })).toEqual({ maximumInstanceCount: 100, instanceMemoryMB: 512, alwaysReady: [{ name: 'http', instanceCount: 2 }] });
    });
  });

  describe('diagnostic settings and the workspace cap', () => {
    it("send the vault's audit log to the workspace always, the function app's logs only with functionAppDiagnosticLogs (Application Insights has them), the storage logs only with storageDiagnosticLogs", () => {
      expect(template().parameters.storageDiagnosticLogs).toMatchObject({ type: 'bool', defaultValue: false });
      expect(template().parameters.functionAppDiagnosticLogs).toMatchObject({ type: 'bool', defaultValue: false });
      const settingsFor = (parameters: Record<string, unknown>) => {
        const { module, scope } = moduleScope('diagnostics', parameters, {
          monitoring: outputs({ workspaceId: 'workspace' }),
          functionApp: outputs({ name: 'func-x' }),
          storage: outputs({ name: 'stx' }),
        });
        return resources(module)
          .filter((r) => r.type === 'Microsoft.Insights/diagnosticSettings' && evaluateArm(r.condition ?? true, scope))
          .map((r) => {
            const target = String(evaluateArm(r.scope, scope)).split('/providers/')[1];
            const { workspaceId, logs } = deep(r.properties, scope) as Json;
            return { target, workspaceId, categories: (logs as Json[]).filter((l) => l.enabled === true).map((l) => l.category) };
          });
      };
      const always = [{ target: expect.stringMatching(/^Microsoft\.KeyVault\/vaults\//), workspaceId: 'workspace', categories: ['AuditEvent'] }];
      expect(settingsFor({})).toEqual(always);
      expect(settingsFor({ functionAppDiagnosticLogs: true })).toEqual([
        { target: expect.stringMatching(/^Microsoft\.Web\/sites\//), workspaceId: 'workspace', categories: ['FunctionAppLogs'] },
        ...always,
      ]);
      expect(settingsFor({ storageDiagnosticLogs: true })).toEqual([
        ...always,
        ...['blobServices', 'queueServices', 'tableServices'].map((s) => ({
          target: expect.stringMatching(new RegExp(`^Microsoft\\.Storage/storageAccounts/[^/]+/${s}/default$`)),
          workspaceId: 'workspace',
          categories: ['StorageRead', 'StorageWrite', 'StorageDelete'],
        })),
      ]);
    });

    it("caps the workspace's daily ingestion at logDailyCapGb; 0 (the default) is no cap", () => {
      expect(template().parameters.logDailyCapGb).toMatchObject({ type: 'int', defaultValue: 0, minValue: 0 });
      const capFor = (parameters: Record<string, unknown>) => {
        const { module, scope } = moduleScope('monitoring', parameters);
        return deep(resources(module).find((r) => r.type === 'Microsoft.OperationalInsights/workspaces')!.properties.workspaceCapping, scope);
      };
      expect(capFor({})).toEqual({ dailyQuotaGb: -1 }); // Azure's own "no cap"
      expect(capFor({ logDailyCapGb: 5 })).toEqual({ dailyQuotaGb: 5 });
    });
  });
});
