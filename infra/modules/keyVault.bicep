// Key Vault (RBAC) with the client keys and any backend API keys; app settings reference them.

param name string
param location string
@secure()
param clientKeys string
@secure()
param backendApiKeys object

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
  }
}

resource clientKeysSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'router-client-keys'
  properties: { value: clientKeys }
}

// Secret names allow letters, digits and dashes: AOAI_WESTUS_KEY is stored as AOAI-WESTUS-KEY.
resource backendKeySecrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for item in items(backendApiKeys): {
    parent: vault
    name: replace(item.key, '_', '-')
    properties: { value: item.value }
  }
]

output name string = vault.name
output vaultUri string = vault.properties.vaultUri
output clientKeysSecretUri string = '${vault.properties.vaultUri}secrets/${clientKeysSecret.name}'
