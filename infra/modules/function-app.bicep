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
@description('Allow rules for the site; any at all: everything else is denied. None: no restriction.')
param accessRestrictions array = []
@description('The subnet (delegated to Microsoft.App/environments) the app is integrated into. Empty: none.')
param virtualNetworkSubnetId string = ''
@description('Always-ready instances of the HTTP scale group (the notification and lifecycle endpoints); 0: none.')
param httpAlwaysReadyInstances int = 0

var appSettingList = [for item in items(appSettings): { name: item.key, value: item.value }]

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
    // Outbound traffic (storage, Key Vault, and their private endpoints) leaves through this subnet; inbound stays public.
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    siteConfig: union(
      {
        minTlsVersion: '1.2'
        appSettings: appSettingList
      },
      // The deployment (scm) site keeps its own, open rules: azd deploy and Kudu authenticate with Entra ID.
      empty(accessRestrictions)
        ? {}
        : { ipSecurityRestrictions: accessRestrictions, ipSecurityRestrictionsDefaultAction: 'Deny', scmIpSecurityRestrictionsUseMain: false }
    )
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
      runtime: { name: 'node', version: '22' }
      scaleAndConcurrency: union(
        {
          maximumInstanceCount: maximumInstanceCount
          instanceMemoryMB: instanceMemoryMB
        },
        httpAlwaysReadyInstances > 0 ? { alwaysReady: [{ name: 'http', instanceCount: httpAlwaysReadyInstances }] } : {}
      )
    }
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
