// privateNetworking: a virtual network the function app is integrated into, and private endpoints (with their
// private DNS zones) through which it reaches storage and Key Vault once their public access is denied.
@description('Where the resources go.')
param location string
param tags object
param virtualNetworkName string
@description('Address space of the virtual network (CIDR), at least a /23: its first /24 is the app\'s integration subnet, its second the private endpoints\'.')
param addressSpace string
@description('Prefix of the private endpoints\' names.')
param privateEndpointPrefix string
param storageAccountName string
param keyVaultName string

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = {
  name: keyVaultName
}

var appSubnetName = 'function-app'
var endpointSubnetName = 'private-endpoints'

resource network 'Microsoft.Network/virtualNetworks@2025-07-01' = {
  name: virtualNetworkName
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: [addressSpace] }
    subnets: [
      {
        name: appSubnetName
        properties: {
          addressPrefix: cidrSubnet(addressSpace, 24, 0)
          // Flex Consumption integrates through a subnet delegated to Microsoft.App/environments (the Microsoft.App
          // resource provider must be registered in the subscription).
          delegations: [{ name: 'flex-consumption', properties: { serviceName: 'Microsoft.App/environments' } }]
        }
      }
      {
        name: endpointSubnetName
        properties: {
          addressPrefix: cidrSubnet(addressSpace, 24, 1)
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }

  resource appSubnet 'subnets' existing = {
    name: appSubnetName
  }

  resource endpointSubnet 'subnets' existing = {
    name: endpointSubnetName
  }
}

// One private endpoint per service the app reaches: the storage account's blob (host, deployment package,
// claim checks), queue and table services, and the vault. Each registers its address in its privatelink zone,
// which the virtual network resolves through Azure DNS.
var endpoints = [
  { name: 'blob', resourceId: storage.id, groupId: 'blob', zone: 'privatelink.blob.${environment().suffixes.storage}' }
  { name: 'queue', resourceId: storage.id, groupId: 'queue', zone: 'privatelink.queue.${environment().suffixes.storage}' }
  { name: 'table', resourceId: storage.id, groupId: 'table', zone: 'privatelink.table.${environment().suffixes.storage}' }
  // environment().suffixes.keyvaultDns is ".vault.azure.net" in the public cloud: its private zone is "privatelink.vaultcore.azure.net".
  { name: 'vault', resourceId: vault.id, groupId: 'vault', zone: 'privatelink.vaultcore.${skip(environment().suffixes.keyvaultDns, length('.vault.'))}' }
]

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for e in endpoints: {
    name: e.zone
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (e, i) in endpoints: {
    parent: zones[i]
    name: network.name
    location: 'global'
    tags: tags
    properties: {
      virtualNetwork: { id: network.id }
      registrationEnabled: false
    }
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2025-07-01' = [
  for e in endpoints: {
    name: '${privateEndpointPrefix}${e.name}'
    location: location
    tags: tags
    properties: {
      subnet: { id: network::endpointSubnet.id }
      privateLinkServiceConnections: [{ name: e.name, properties: { privateLinkServiceId: e.resourceId, groupIds: [e.groupId] } }]
    }
  }
]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2025-07-01' = [
  for (e, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [{ name: e.name, properties: { privateDnsZoneId: zones[i].id } }]
    }
  }
]

@description('The subnet the function app is integrated into (the site\'s virtualNetworkSubnetId).')
output appSubnetId string = network::appSubnet.id
