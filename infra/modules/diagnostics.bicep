// Every diagnostic setting of the deployment, in one place, each to the Log Analytics workspace: the vault's audit
// log and, when asked, the function app's logs and the storage account's blob, queue and table logs.
@description('The Log Analytics workspace the logs go to.')
param workspaceId string
param functionAppName string
param keyVaultName string
param storageAccountName string
@description('Also send the storage account\'s StorageRead, StorageWrite and StorageDelete logs: one row per storage operation (docs/scale.md).')
param storageLogs bool
@description('Also send the function app\'s FunctionAppLogs: a second copy of what Application Insights receives.')
param functionAppLogs bool

resource site 'Microsoft.Web/sites@2025-03-01' existing = {
  name: functionAppName
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = {
  name: keyVaultName
}

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'
  }

  resource queueService 'queueServices' existing = {
    name: 'default'
  }

  resource tableService 'tableServices' existing = {
    name: 'default'
  }
}

@description('A diagnostic setting\'s logs: each category enabled.')
func enabled(categories string[]) object[] => map(categories, c => { category: c, enabled: true })

var storageCategories = ['StorageRead', 'StorageWrite', 'StorageDelete']

resource siteLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (functionAppLogs) {
  name: 'to-log-analytics'
  scope: site
  properties: {
    workspaceId: workspaceId
    logs: enabled(['FunctionAppLogs'])
  }
}

resource vaultLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: workspaceId
    // Key Vault's resource-specific table (AZKVAuditLogs) rather than the shared AzureDiagnostics.
    logAnalyticsDestinationType: 'Dedicated'
    logs: enabled(['AuditEvent'])
  }
}

resource blobLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (storageLogs) {
  name: 'to-log-analytics'
  scope: storage::blobService
  properties: {
    workspaceId: workspaceId
    logs: enabled(storageCategories)
  }
}

resource queueLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (storageLogs) {
  name: 'to-log-analytics'
  scope: storage::queueService
  properties: {
    workspaceId: workspaceId
    logs: enabled(storageCategories)
  }
}

resource tableLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (storageLogs) {
  name: 'to-log-analytics'
  scope: storage::tableService
  properties: {
    workspaceId: workspaceId
    logs: enabled(storageCategories)
  }
}
