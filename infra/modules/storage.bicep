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
@description('The container of claim-check blobs (notifications over 64 KiB).')
param claimCheckContainer string
@description('Days a claim-check blob is kept after it was written.')
param claimCheckRetentionDays int
@description('Deny public network access except from allowedAddresses (and trusted Azure services); the app then reaches the account through private endpoints.')
param denyPublicNetwork bool
@description('With denyPublicNetwork: the public addresses or ranges (storage IP rules: an address, or a CIDR range of /30 or wider) still allowed.')
param allowedAddresses string[]

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
    networkAcls: denyPublicNetwork
      ? { defaultAction: 'Deny', bypass: 'AzureServices', ipRules: map(allowedAddresses, a => { value: a, action: 'Allow' }) }
      : { defaultAction: 'Allow', bypass: 'AzureServices' }
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
// deleted by the app when their message is done; a send that failed after its blob was written leaves one
// nothing points at, so they are deleted too once older than the longest a message pointing at one can live
// (the incoming message until routing takes it, the host's poison copy 7 days more; a dead letter keeps its
// own copy in the dead-letter container: see shared/queue/claim-check-retention.ts). Queues have no
// lifecycle rules: the app's messages never expire, while the host's `-poison` copies expire after the
// service's default of 7 days (see docs/events.md).
@description('A lifecycle rule that deletes the block blobs of `container` written more than `days` days ago.')
func deleteAfter(name string, container string, days int) object => {
  enabled: true
  name: name
  type: 'Lifecycle'
  definition: {
    filters: { blobTypes: ['blockBlob'], prefixMatch: ['${container}/'] }
    actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: days } } }
  }
}

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2025-06-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: concat(
        [deleteAfter('delete-claim-checks', claimCheckContainer, claimCheckRetentionDays)],
        eventPayloadRetentionDays > 0 ? [deleteAfter('delete-event-payloads', eventPayloadContainer, eventPayloadRetentionDays)] : []
      )
    }
  }
}

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
