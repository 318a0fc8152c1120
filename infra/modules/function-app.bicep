@description('Where the resources go.')
param location string
param tags object
param planName string
param functionAppName string
param identityId string
param storageBlobEndpoint string
param deploymentContainerName string
@description('App settings, name to value.')
param appSettings object
param maximumInstanceCount int
param instanceMemoryMB int

@description('Value of the host key the notification URLs carry (`?code=`), so Graph can call the function-level endpoints.')
@secure()
param notificationKey string

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: functionAppName
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [for item in items(appSettings): { name: item.key, value: item.value }]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      runtime: { name: 'node', version: '20' }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
    }
  }
}

// The host key Graph's notification URLs carry. Bicep has no type definitions for host keys, though ARM
// accepts the type; the resource is written as ARM documents it.
#disable-next-line BCP081
resource graphKey 'Microsoft.Web/sites/host/functionKeys@2024-04-01' = {
  name: '${site.name}/default/graph'
  properties: {
    name: 'graph'
    value: notificationKey
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
