@description('Every role assignment of the deployment, in one place: { principalId, principalType, roleDefinitionId, scope: "storage" | "vault" | "appInsights" }.')
param assignments array
param storageAccountName string
param keyVaultName string
param appInsightsName string

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = {
  name: keyVaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in filter(assignments, x => x.scope == 'storage'): {
    name: guid(storage.id, a.principalId, a.roleDefinitionId)
    scope: storage
    properties: {
      principalId: a.principalId
      principalType: a.principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
    }
  }
]

resource vaultRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in filter(assignments, x => x.scope == 'vault'): {
    name: guid(vault.id, a.principalId, a.roleDefinitionId)
    scope: vault
    properties: {
      principalId: a.principalId
      principalType: a.principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
    }
  }
]

resource monitoringRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in filter(assignments, x => x.scope == 'appInsights'): {
    name: guid(appInsights.id, a.principalId, a.roleDefinitionId)
    scope: appInsights
    properties: {
      principalId: a.principalId
      principalType: a.principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
    }
  }
]
