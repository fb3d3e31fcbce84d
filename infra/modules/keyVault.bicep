// Key Vault (RBAC) with the operators' client keys, the keys of named clients and any backend API
// keys; app settings reference them. A vault deleted less than 7 days ago keeps its name: the
// deploy step looks for it first and passes createMode 'recover' (which itself fails when no
// deleted vault exists, so it is never the default).

param name string
param location string
@secure()
param clientKeys string
@description('Secrets by app setting name: backend API keys (auth.keySetting) and named clients\' keys (clients[].keySetting).')
@secure()
param settingSecrets object
@allowed([
  'default'
  'recover'
])
param createMode string = 'default'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  properties: {
    createMode: createMode
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
resource settingSecretValues 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for item in items(settingSecrets): {
    parent: vault
    name: replace(item.key, '_', '-')
    properties: { value: item.value }
  }
]

output name string = vault.name
output vaultUri string = vault.properties.vaultUri
output clientKeysSecretUri string = '${vault.properties.vaultUri}secrets/${clientKeysSecret.name}'
