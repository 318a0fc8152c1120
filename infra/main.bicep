// teams-change-relay on Azure Functions Flex Consumption: the function app, its user-assigned identity,
// storage reached by identity only, Key Vault (RBAC) for the encryption certificate and secrets, Application
// Insights, and every role assignment in one place. See docs/deploy.md.
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(32)
@description('Names and tags derive from it (e.g. "relay-prod"; azd: AZURE_ENV_NAME). Letters, digits and hyphens; upper case is lowered.')
param environmentName string

@description('Region of every resource.')
param location string = resourceGroup().location

@description('Tenants whose notifications are accepted, comma-separated (GRAPH_TENANT_IDS). Empty: the tenant of this Azure subscription.')
param graphTenantIds string = ''

@description('How the app gets Graph tokens: "managedidentity" (the user-assigned identity, granted Graph application permissions; this tenant only), "federated" (the multi-tenant Entra app registration graphAppId, signed in by the user-assigned identity through the registration\'s federated credential, which `npm run azure-setup -- federated-credential` adds; every tenant that consented to the app) or "clientsecret" (an Entra app registration and its secret).')
@allowed(['managedidentity', 'federated', 'clientsecret'])
param graphAuthMode string = 'managedidentity'

@description('Application (client) id of the Entra app registration: required with federated and clientsecret. Empty with managedidentity: the managed identity\'s client id, which then is the app Graph sees.')
param graphAppId string = ''

@description('Client secret of the Entra app registration, for clientsecret mode: stored in Key Vault as graph-client-secret when given; empty: the vault\'s is kept (docs/deploy.md, rotating secrets).')
@secure()
param graphClientSecret string = ''

@description('Name of the Key Vault certificate that encrypts notifications.')
param keyVaultCertificateName string = 'graph-notifications'

@description('Path, inside the deployed package, of the desired-subscriptions file (npm run package ships it as subscriptions.json).')
param subscriptionsFile string = 'subscriptions.json'

@description('false (first deployment): the app receives but manages no subscription. true once the notification and lifecycle URLs, with the function key, are in Key Vault (docs/deploy.md): the app then reads them and reconciles subscriptionsFile.')
param manageSubscriptions bool = false

@description('Path, inside the deployed package, of a routing file. Empty: default routes.')
param routesFile string = ''

@description('Let the reconciler delete subscriptions that the file no longer lists.')
param deleteUndesiredSubscriptions bool = false

@description('Object id of the person or pipeline that creates the certificate and stores the notification URLs in Key Vault (Key Vault Certificates Officer and Secrets Officer; azd: AZURE_PRINCIPAL_ID). Empty: none.')
param deployerPrincipalId string = ''

@description('What deployerPrincipalId is: a person (User) or a pipeline\'s service principal (ServicePrincipal); azd: AZURE_PRINCIPAL_TYPE.')
@allowed(['User', 'ServicePrincipal'])
param deployerPrincipalType string = 'User'

@description('Key Vault name. Empty: derived from environmentName (the same on every deployment). A vault with purge protection stays reserved for 90 days after deletion: recover it (az keyvault recover) or name another here.')
@maxLength(24)
param keyVaultName string = ''

@description('Purge protection on the vault (cannot be turned off once on). Off only for throwaway environments.')
param keyVaultPurgeProtection bool = true

@description('Most instances Flex Consumption may scale out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Hours a daily safety net reads back from Graph for every desired subscription (24 to 48); 0: off.')
@allowed([0, 24, 36, 48])
param backfillSafetyNetHours int = 0

@description('Incoming queues change notifications are spread over, each with its own trigger (NOTIFICATIONS_QUEUE_PARTITIONS, docs/scale.md).')
@minValue(1)
@maxValue(32)
param notificationQueuePartitions int = 1

@description('Time-to-live of downstream event messages in seconds; -1 or 0: they never expire (the app\'s EVENT_TTL_SECONDS is then -1; dead letters never expire).')
@minValue(-1)
@maxValue(2147483647)
param eventTtlSeconds int = -1

@description('Days event payload blobs (events over 64 KiB, decrypted content) are kept; 0: forever. Enforced by a storage lifecycle policy.')
@minValue(0)
param eventPayloadRetentionDays int = 30

@description('Days claim-check blobs (notifications over 64 KiB) are kept: the route deletes each once its message is done, this rule those a failed send left. At least 14 (the poison copy\'s 7 days and a week of routing; docs/operations.md). Enforced by a storage lifecycle policy; the app\'s CLAIM_CHECK_RETENTION_DAYS.')
@minValue(14)
@maxValue(36500)
param claimCheckRetentionDays int = 30

@description('Only Microsoft Graph\'s published change-notification addresses (graph-notification-sources.json) and operatorCidrs may call the app. Access restrictions cover the whole site, not a path: /api/status too (docs/deploy.md).')
param restrictToGraph bool = false

@description('Comma-separated public address ranges (CIDR, e.g. 203.0.113.0/24) of operators: with restrictToGraph, who may open /api/status or run check-endpoints; with privateNetworking, who may still reach storage (the CLIs). Public addresses only: single addresses or ranges of /30 and wider, IPv4.')
param operatorCidrs string = ''

@description('Close storage to the public network: a virtual network the app is integrated into, private endpoints (storage and Key Vault) and their private DNS zones; only operatorCidrs (and trusted Azure services) still reach storage from outside. Key Vault stays reachable (RBAC only): Flex Consumption cannot resolve Key Vault references to a network-restricted vault. The app\'s HTTP endpoints stay public for Graph (docs/deploy.md step 12).')
param privateNetworking bool = false

@description('With privateNetworking: the virtual network\'s address space (CIDR), at least a /23; its first /24 is the app\'s integration subnet, the next /24 the private endpoints\'. Pick one no peered network uses.')
param privateNetworkAddressSpace string = '10.0.0.0/23'

@description('Instances kept ready for the HTTP functions (notifications, lifecycle) so Graph\'s handshake and notifications after a quiet spell meet no cold start; 0: none. Each is billed while idle (docs/scale.md).')
@minValue(0)
@maxValue(1000)
param httpAlwaysReadyInstances int = 0

@description('Send the storage account\'s blob, queue and table logs (StorageRead, StorageWrite, StorageDelete) to Log Analytics: a row per storage operation, 1.3 to 5.5 per event (docs/scale.md). The vault\'s audit log always goes there.')
param storageDiagnosticLogs bool = false

@description('Send the function app\'s FunctionAppLogs to Log Analytics: the host\'s and the app\'s log lines as the platform sees them, which Application Insights also receives (a second copy, billed again; docs/scale.md). For when Application Insights is not enough, e.g. its ingestion failing.')
param functionAppDiagnosticLogs bool = false

@description('Most GB a day the Log Analytics workspace ingests (Application Insights and the diagnostic logs together); past it, telemetry is dropped until the cap resets. 0: no cap (docs/scale.md).')
@minValue(0)
param logDailyCapGb int = 0

@description('Address the alert rules mail (a distribution list\'s address for several people; docs/operations.md#alerts). With alertWebhookUrl empty too, no action group and no alert rule is deployed.')
param alertEmailAddress string = ''

@description('HTTPS URL the alert rules post to, in the common alert schema (a chat workflow, an incident tool); it may carry a key. With alertEmailAddress empty too, no action group and no alert rule is deployed.')
@secure()
param alertWebhookUrl string = ''

@description('Minutes the oldest message of an incoming queue may wait before its alert fires.')
@minValue(1)
param alertQueueAgeMinutes int = 10

@description('Percent of receive answers slower than Graph\'s 2,900 ms mark over 10 minutes above which an alert fires (Graph delays every notification at 10 %, drops them at 15 %).')
@minValue(1)
@maxValue(100)
param alertSlowAnswerPercent int = 5

@description('Minutes a backfill gap may stay open before its alert fires.')
@minValue(1)
param alertGapOpenMinutes int = 120

@description('Days before the encryption certificate or the Graph client secret or certificate expires from which its alert fires (the self-check itself fails at 7).')
@minValue(1)
param alertCredentialDaysLeft int = 30

@description('Percent of a receive endpoint\'s answers in 15 minutes that may be 5xx before an alert fires (single 503s are by design: Graph retries them).')
@minValue(1)
@maxValue(100)
param alertServerErrorPercent int = 10

@description('Minutes the average end-to-end delay of a kind\'s live events may reach, over 15 minutes, before an alert fires.')
@minValue(1)
param alertDelayMinutes int = 15

@description('An app setting that Functions resolves from Key Vault with the app\'s identity.')
func keyVaultReference(secretUri string) string => '@Microsoft.KeyVault(SecretUri=${secretUri})'

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName, location))
var tags = { 'azd-env-name': environmentName, app: 'teams-change-relay' }
// Resource names are lower case; storage account and vault names allow no hyphen or other punctuation.
var envName = toLower(environmentName)
var envAlphanumeric = replace(replace(replace(envName, '-', ''), '_', ''), '.', '')
var functionAppName = '${abbrs.functionApp}${envName}-${resourceToken}'
var deploymentContainerName = 'app-package-${take(resourceToken, 16)}'

// Microsoft may change Graph's addresses without notice: a notification from a new one is refused (403), Graph
// retries it for 4 hours and then drops it. Refresh graph-notification-sources.json as docs/deploy.md says.
var graphNotificationSources = loadJsonContent('graph-notification-sources.json')
var operatorRanges = filter(map(split(operatorCidrs, ','), c => trim(c)), c => !empty(c))
var accessRestrictions = restrictToGraph
  ? concat(
      map(graphNotificationSources.publicCloud, ip => { name: 'graph-change-notifications', ipAddress: '${ip}/32', action: 'Allow', priority: 100 }),
      map(operatorRanges, cidr => { name: 'operators', ipAddress: cidr, action: 'Allow', priority: 200 })
    )
  : []
// The storage firewall takes a single address without "/32" (and no /31); the vault's takes either.
var operatorAddresses = map(operatorRanges, r => endsWith(r, '/32') ? replace(r, '/32', '') : r)

// The reconciler's own handshake check before each creation calls the app's public URLs from the app's outbound
// addresses, which the restriction denies (403): it would stop every creation. Graph's handshake on create, from
// its published addresses, remains the check (docs/deploy.md step 11).
var endpointCheckSettings = restrictToGraph ? { SUBSCRIPTIONS_CHECK_ENDPOINTS: 'false' } : {}

var queueNames = {
  notifications: 'graph-notifications'
  lifecycle: 'graph-lifecycle'
  deadLetter: 'graph-notifications-deadletter'
  subscriptionEvents: 'teams-subscription-events'
  backfill: 'graph-backfill'
}
// Partition 0 keeps the plain name; the others are graph-notifications-1 … (shared/queue/notification-queues.ts).
var extraNotificationQueues = [for i in range(1, notificationQueuePartitions - 1): '${queueNames.notifications}-${i}']
// The default queue of each Teams kind, written from shared/kinds/teams-kinds.ts (npm run kinds:write).
var teamsKinds = loadJsonContent('teams-kinds.json')
var downstreamQueues = map(items(teamsKinds.defaultQueues), kind => kind.value)
var containerNames = {
  claimChecks: 'graph-notification-payloads'
  events: 'teams-event-payloads'
  deadLetters: 'graph-notifications-deadletter'
  locks: 'teams-change-relay-locks'
}
var tableNames = {
  dedup: 'routedevents'
  subscriptions: 'subscriptions'
  backfill: 'backfill'
  metrics: 'metrics'
  health: 'health'
  tenants: 'tenants'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: '${abbrs.managedIdentity}${envName}-${resourceToken}'
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    tags: tags
    logAnalyticsName: '${abbrs.logAnalytics}${envName}-${resourceToken}'
    appInsightsName: '${abbrs.appInsights}${envName}-${resourceToken}'
    dailyQuotaGb: logDailyCapGb == 0 ? -1 : logDailyCapGb
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    tags: tags
    storageAccountName: '${abbrs.storageAccount}${take(envAlphanumeric, 24 - length(abbrs.storageAccount) - length(resourceToken))}${resourceToken}'
    containers: concat([deploymentContainerName], map(items(containerNames), c => c.value))
    queues: concat(
      map(items(queueNames), q => q.value),
      map(items(queueNames), q => '${q.value}-poison'),
      extraNotificationQueues,
      map(extraNotificationQueues, q => '${q}-poison'),
      downstreamQueues
    )
    tables: map(items(tableNames), t => t.value)
    eventPayloadContainer: containerNames.events
    eventPayloadRetentionDays: eventPayloadRetentionDays
    claimCheckContainer: containerNames.claimChecks
    claimCheckRetentionDays: claimCheckRetentionDays
    denyPublicNetwork: privateNetworking
    allowedAddresses: operatorAddresses
  }
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: empty(keyVaultName) ? '${abbrs.keyVault}${take(envAlphanumeric, 24 - length(abbrs.keyVault) - length(resourceToken))}${resourceToken}' : keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: keyVaultPurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
    // Open to the public network even with privateNetworking: App Service resolves the app's Key Vault references
    // from outside the app's network, and on Flex Consumption a reference to a network-restricted vault fails
    // (the app then refuses to start, shared/config/settings/key-vault-reference.ts). The vault is RBAC-only; the
    // app's own reads (the certificate) go through its private endpoint.
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
  }
}

// The clientState is created once, in the vault, when absent (`npm run azure-setup -- vault`, azd's postprovision
// hook), and never by the template: a second operator's deployment, or any later one, must not replace it, or
// every existing subscription's notifications would fail their clientState check. The keyed notification and
// lifecycle URLs are secrets the operator stores after publishing and setting the function key (docs/deploy.md).
// The template references these secrets and never writes them, so a redeployment keeps them.
var clientStateSecretName = 'graph-client-state'
var notificationUrlSecretName = 'graph-notification-url'
var lifecycleUrlSecretName = 'graph-lifecycle-url'

// The Graph client secret: written only when a value is given, so a later deployment without it (another
// operator, a shell without the variable) keeps the one in the vault; the setting references it by name.
var clientSecretSecretName = 'graph-client-secret'
resource clientSecretSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (graphAuthMode == 'clientsecret' && !empty(graphClientSecret)) {
  parent: vault
  name: clientSecretSecretName
  properties: { value: graphClientSecret, contentType: 'text/plain' }
}

var appSettings = union(
  {
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identity.properties.clientId
    AzureWebJobsStorage__blobServiceUri: storage.outputs.blobEndpoint
    AzureWebJobsStorage__queueServiceUri: storage.outputs.queueEndpoint
    AzureWebJobsStorage__tableServiceUri: storage.outputs.tableEndpoint
    APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.appInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
    AZURE_CLIENT_ID: identity.properties.clientId
    GRAPH_CLIENT_STATE: keyVaultReference('${vault.properties.vaultUri}secrets/${clientStateSecretName}')
    // The app registration of federated and clientsecret has no stand-in: without its id the app would sign in as
    // the identity, which Entra refuses for another tenant and for a client secret.
    GRAPH_APP_ID: !empty(graphAppId)
      ? graphAppId
      : graphAuthMode == 'managedidentity'
          ? identity.properties.clientId
          : fail('graphAppId (GRAPH_APP_ID) is required with graphAuthMode ${graphAuthMode}: the client id of the Entra app registration (docs/deploy.md step 2).')
    GRAPH_TENANT_IDS: empty(graphTenantIds) ? tenant().tenantId : graphTenantIds
    GRAPH_JWKS_URL: '${environment().authentication.loginEndpoint}common/discovery/v2.0/keys'
    GRAPH_BASE_URL: 'https://graph.microsoft.com'
    GRAPH_AUTH_MODE: graphAuthMode
    SUBSCRIPTIONS_TABLE: tableNames.subscriptions
    SUBSCRIPTION_EVENTS_QUEUE: queueNames.subscriptionEvents
    RENEW_WITHIN_MINUTES: '1440'
    DELETE_UNDESIRED_SUBSCRIPTIONS: string(deleteUndesiredSubscriptions)
    RECONCILE_SCHEDULE: '0 */15 * * * *'
    NOTIFICATIONS_QUEUE: queueNames.notifications
    NOTIFICATIONS_QUEUE_PARTITIONS: string(notificationQueuePartitions)
    LIFECYCLE_QUEUE: queueNames.lifecycle
    NOTIFICATIONS_CONTAINER: containerNames.claimChecks
    CLAIM_CHECK_RETENTION_DAYS: string(claimCheckRetentionDays)
    CERTIFICATE_STORE: 'keyvault'
    KEY_VAULT_URL: vault.properties.vaultUri
    KEY_VAULT_CERTIFICATE_NAME: keyVaultCertificateName
    DEAD_LETTER_QUEUE: queueNames.deadLetter
    DEAD_LETTER_CONTAINER: containerNames.deadLetters
    EVENTS_CONTAINER: containerNames.events
    DEDUP_TABLE: tableNames.dedup
    DEDUP_WINDOW_MINUTES: '1440'
    EVENT_TTL_SECONDS: string(eventTtlSeconds > 0 ? eventTtlSeconds : -1)
    BACKFILL_QUEUE: queueNames.backfill
    BACKFILL_TABLE: tableNames.backfill
    BACKFILL_AFTER_DOWNTIME_SECONDS: '600'
    BACKFILL_MARGIN_MINUTES: '15'
    BACKFILL_SAFETY_NET_HOURS: string(backfillSafetyNetHours)
    BACKFILL_READS_PER_SECOND: '20'
    EVENT_PAYLOAD_RETENTION_DAYS: string(eventPayloadRetentionDays)
    NOTIFICATIONS_MAX_BODY_BYTES: '16777216'
    RECEIVE_STORAGE_TIMEOUT_MS: '1200'
    METRICS_TABLE: tableNames.metrics
    METRICS_FLUSH_SECONDS: '60'
    METRICS_RETENTION_DAYS: '30'
    HEALTH_TABLE: tableNames.health
    TENANTS_TABLE: tableNames.tenants
    TENANT_BASELINE_HOURS: '24'
    HEALTH_SILENT_SUBSCRIPTION_HOURS: '24'
    // The verdict's thresholds and the alerts' are one choice.
    HEALTH_GAP_OPEN_MINUTES: string(alertGapOpenMinutes)
    HEALTH_QUEUE_AGE_MINUTES: string(alertQueueAgeMinutes)
  },
  manageSubscriptions
    ? {
        GRAPH_NOTIFICATION_URL: keyVaultReference('${vault.properties.vaultUri}secrets/${notificationUrlSecretName}')
        GRAPH_LIFECYCLE_URL: keyVaultReference('${vault.properties.vaultUri}secrets/${lifecycleUrlSecretName}')
        SUBSCRIPTIONS_FILE: subscriptionsFile
      }
    : {},
  endpointCheckSettings,
  empty(routesFile) ? {} : { ROUTES_FILE: routesFile },
  graphAuthMode == 'clientsecret' ? { GRAPH_CLIENT_SECRET: keyVaultReference('${vault.properties.vaultUri}secrets/${clientSecretSecretName}') } : {}
)

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  params: {
    location: location
    tags: tags
    planName: '${abbrs.appServicePlan}${envName}-${resourceToken}'
    functionAppName: functionAppName
    identityId: identity.id
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    appSettings: appSettings
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    accessRestrictions: accessRestrictions
    virtualNetworkSubnetId: privateNetworking ? privateNetwork!.outputs.appSubnetId : ''
    httpAlwaysReadyInstances: httpAlwaysReadyInstances
  }
  dependsOn: [rbac]
}

module privateNetwork 'modules/private-network.bicep' = if (privateNetworking) {
  name: 'private-network'
  params: {
    location: location
    tags: tags
    virtualNetworkName: '${abbrs.virtualNetwork}${envName}-${resourceToken}'
    addressSpace: privateNetworkAddressSpace
    privateEndpointPrefix: '${abbrs.privateEndpoint}${envName}-${resourceToken}-'
    storageAccountName: storage.outputs.name
    keyVaultName: vault.name
  }
}

module diagnostics 'modules/diagnostics.bicep' = {
  name: 'diagnostics'
  params: {
    workspaceId: monitoring.outputs.workspaceId
    functionAppName: functionApp.outputs.name
    keyVaultName: vault.name
    storageAccountName: storage.outputs.name
    storageLogs: storageDiagnosticLogs
    functionAppLogs: functionAppDiagnosticLogs
  }
}

// Alert rules only with someone to tell: a rule that notifies nobody is noise in the portal and a false comfort.
var alertReceiverGiven = !empty(alertEmailAddress) || !empty(alertWebhookUrl)
module alerts 'modules/alerts.bicep' = if (alertReceiverGiven) {
  name: 'alerts'
  params: {
    location: location
    tags: tags
    namePrefix: 'relay-${envName}'
    actionGroupShortName: take(envName, 12)
    appInsightsName: monitoring.outputs.appInsightsName
    emailAddress: alertEmailAddress
    webhookUrl: alertWebhookUrl
    queueAgeMinutes: alertQueueAgeMinutes
    slowAnswerPercent: alertSlowAnswerPercent
    gapOpenMinutes: alertGapOpenMinutes
    credentialDaysLeft: alertCredentialDaysLeft
    serverErrorPercent: alertServerErrorPercent
    delayMinutes: alertDelayMinutes
  }
}

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultCertificateUser: 'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultCertificatesOfficer: 'a4417e6f-fecd-4de8-b567-7b0420556985'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

var appAssignments = [
  { scope: 'storage', roleDefinitionId: roles.storageBlobDataOwner }
  { scope: 'storage', roleDefinitionId: roles.storageQueueDataContributor }
  { scope: 'storage', roleDefinitionId: roles.storageTableDataContributor }
  { scope: 'appInsights', roleDefinitionId: roles.monitoringMetricsPublisher }
  { scope: 'vault', roleDefinitionId: roles.keyVaultCertificateUser }
  { scope: 'vault', roleDefinitionId: roles.keyVaultSecretsUser }
]

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  params: {
    storageAccountName: storage.outputs.name
    keyVaultName: vault.name
    appInsightsName: monitoring.outputs.appInsightsName
    assignments: concat(
      map(appAssignments, a => union(a, { principalId: identity.properties.principalId, principalType: 'ServicePrincipal' })),
      empty(deployerPrincipalId)
        ? []
        : map([roles.keyVaultCertificatesOfficer, roles.keyVaultSecretsOfficer], role => { scope: 'vault', roleDefinitionId: role, principalId: deployerPrincipalId, principalType: deployerPrincipalType })
    )
  }
}

output FUNCTION_APP_NAME string = functionApp.outputs.name
output FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
@description('The notification URL without its key; the keyed URL goes into Key Vault as NOTIFICATION_URL_SECRET.')
output NOTIFICATION_URL string = 'https://${functionApp.outputs.defaultHostName}/api/notifications'
output LIFECYCLE_URL string = 'https://${functionApp.outputs.defaultHostName}/api/lifecycle'
output NOTIFICATION_URL_SECRET string = notificationUrlSecretName
output LIFECYCLE_URL_SECRET string = lifecycleUrlSecretName
output MANAGE_SUBSCRIPTIONS bool = manageSubscriptions
output KEY_VAULT_URI string = vault.properties.vaultUri
output KEY_VAULT_NAME string = vault.name
output MANAGED_IDENTITY_CLIENT_ID string = identity.properties.clientId
@description('The subject of the federated credential that lets the identity sign in as the app registration (graphAuthMode federated).')
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.properties.principalId
@description('The issuer of the identity\'s tokens, which that federated credential names (npm run azure-setup -- federated-credential).')
output MANAGED_IDENTITY_ISSUER string = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_RESOURCE_GROUP string = resourceGroup().name
@description('The alert rules deployed (none without a receiver).')
output ALERT_RULE_NAMES array = alertReceiverGiven ? alerts!.outputs.ruleNames : []
