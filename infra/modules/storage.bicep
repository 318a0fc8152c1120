@description('Where the resources go.')
param location string
param tags object
param storageAccountName string
@description('Blob containers to create.')
param containers array
@description('Queues to create.')
param queues array
@description('Tables to create.')
param tables array
@description('The container of event payload blobs (decrypted content of events over 64 KiB).')
param eventPayloadContainer string
@description('Days a payload blob is kept after it was written; 0: forever.')
param eventPayloadRetentionDays int

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
    publicNetworkAccess: 'Enabled'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' = {
  parent: storage
  name: 'default'
}

resource blobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' = [
  for name in containers: {
    parent: blobService
    name: name
    properties: { publicAccess: 'None' }
  }
]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2025-06-01' = {
  parent: storage
  name: 'default'
}

resource storageQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-06-01' = [
  for name in queues: {
    parent: queueService
    name: name
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2025-06-01' = {
  parent: storage
  name: 'default'
}

resource storageTables 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-06-01' = [
  for name in tables: {
    parent: tableService
    name: name
  }
]

// Event payloads hold decrypted Teams content: deleted once past their retention. Claim-check blobs are
// deleted by the app when their message is done (a dead-lettered one stays until it is replayed), and
// queues have no lifecycle rules: the app's messages never expire, while the host's `-poison` copies expire
// after the service's default of 7 days (see docs/events.md).
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2025-06-01' = if (eventPayloadRetentionDays > 0) {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          enabled: true
          name: 'delete-event-payloads'
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: ['blockBlob'], prefixMatch: ['${eventPayloadContainer}/'] }
            actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: eventPayloadRetentionDays } } }
          }
        }
      ]
    }
  }
}

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
