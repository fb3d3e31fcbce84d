// One app's identity on the shared resources: the state table and the response cache's blobs, the Key Vault secrets and
// Application Insights (which takes telemetry only with an Entra token). Names come from the
// principal id, so a recreated app (a new principal) never clashes with its predecessor's.

param principalId string
param stateAccountName string
param vaultName string
param insightsName string

var tableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var blobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: insightsName
}

resource telemetryAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, principalId, monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource stateAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: stateAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource stateAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(stateAccount.id, principalId, tableDataContributor)
  scope: stateAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', tableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// The response cache reads and writes its answers as blobs of the same account.
resource cacheAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(stateAccount.id, principalId, blobDataContributor)
  scope: stateAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource vaultAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
