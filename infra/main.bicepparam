// The one parameters file of every deployment: azd reads it (it puts the azd environment's values into the
// environment of the Bicep compilation), and so does `az deployment group create -p infra/main.bicepparam` with
// the same variables exported from the environment file docs/deploy.md keeps. A parameter missing here falls back
// to the template's default on every path alike; a variable without a default below must be set, or the
// compilation stops naming it.
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME')
param location = readEnvironmentVariable('AZURE_LOCATION')
param deployerPrincipalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')
param deployerPrincipalType = readEnvironmentVariable('AZURE_PRINCIPAL_TYPE', 'User')

param graphTenantIds = readEnvironmentVariable('GRAPH_TENANT_IDS', '')
param graphAuthMode = readEnvironmentVariable('GRAPH_AUTH_MODE', 'managedidentity')
param graphAppId = readEnvironmentVariable('GRAPH_APP_ID', '')
param graphClientSecret = readEnvironmentVariable('GRAPH_CLIENT_SECRET', '')
param keyVaultName = readEnvironmentVariable('KEY_VAULT_NAME', '')

param manageSubscriptions = bool(readEnvironmentVariable('MANAGE_SUBSCRIPTIONS', 'false'))
param deleteUndesiredSubscriptions = bool(readEnvironmentVariable('DELETE_UNDESIRED_SUBSCRIPTIONS', 'false'))
param routesFile = readEnvironmentVariable('ROUTES_FILE', '')
param notificationQueuePartitions = int(readEnvironmentVariable('NOTIFICATIONS_QUEUE_PARTITIONS', '1'))
param claimCheckRetentionDays = int(readEnvironmentVariable('CLAIM_CHECK_RETENTION_DAYS', '30'))
param eventTtlSeconds = int(readEnvironmentVariable('EVENT_TTL_SECONDS', '-1'))
param eventPayloadRetentionDays = int(readEnvironmentVariable('EVENT_PAYLOAD_RETENTION_DAYS', '30'))
// any(): the template's allowed values (0, 24, 36, 48) are checked by Resource Manager when it deploys.
param backfillSafetyNetHours = any(int(readEnvironmentVariable('BACKFILL_SAFETY_NET_HOURS', '0')))

param restrictToGraph = bool(readEnvironmentVariable('AZURE_RESTRICT_TO_GRAPH', 'false'))
param operatorCidrs = readEnvironmentVariable('AZURE_OPERATOR_CIDRS', '')
param privateNetworking = bool(readEnvironmentVariable('AZURE_PRIVATE_NETWORKING', 'false'))
param privateNetworkAddressSpace = readEnvironmentVariable('AZURE_PRIVATE_NETWORK_ADDRESS_SPACE', '10.0.0.0/23')
param httpAlwaysReadyInstances = int(readEnvironmentVariable('AZURE_HTTP_ALWAYS_READY_INSTANCES', '0'))
param storageDiagnosticLogs = bool(readEnvironmentVariable('AZURE_STORAGE_DIAGNOSTIC_LOGS', 'false'))
param functionAppDiagnosticLogs = bool(readEnvironmentVariable('AZURE_FUNCTION_APP_DIAGNOSTIC_LOGS', 'false'))
param logDailyCapGb = int(readEnvironmentVariable('AZURE_LOG_DAILY_CAP_GB', '0'))

// Alerts (docs/operations.md#alerts): with neither receiver, no action group and no rule is deployed.
param alertEmailAddress = readEnvironmentVariable('ALERT_EMAIL_ADDRESS', '')
param alertWebhookUrl = readEnvironmentVariable('ALERT_WEBHOOK_URL', '')
param alertQueueAgeMinutes = int(readEnvironmentVariable('ALERT_QUEUE_AGE_MINUTES', '10'))
param alertSlowAnswerPercent = int(readEnvironmentVariable('ALERT_SLOW_ANSWER_PERCENT', '5'))
param alertGapOpenMinutes = int(readEnvironmentVariable('ALERT_GAP_OPEN_MINUTES', '120'))
param alertCredentialDaysLeft = int(readEnvironmentVariable('ALERT_CREDENTIAL_DAYS_LEFT', '30'))
param alertServerErrorPercent = int(readEnvironmentVariable('ALERT_SERVER_ERROR_PERCENT', '10'))
param alertDelayMinutes = int(readEnvironmentVariable('ALERT_DELAY_MINUTES', '15'))
