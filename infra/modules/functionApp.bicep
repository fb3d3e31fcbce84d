// One region's router: a Linux Function App on the Flex Consumption plan (Node 22), its deployment
// storage, an access restriction that admits only our Front Door, and a management side with no
// basic-auth publishing (Flex Consumption has no FTP at all). Its app settings are set by appSettings.bicep, after the app's
// identity has been granted Key Vault access (main.bicep orders them), so Key Vault references
// resolve at the app's first start instead of being cached unresolved for a day.

param name string
param location string
param deploymentStorageName string
param frontDoorId string
param httpPerInstanceConcurrency int
param alwaysReadyInstances int
param maximumInstanceCount int
@description('Azure OpenAI accounts this app may call; it gets Cognitive Services OpenAI User on each.')
param openAiAccountIds array

var deploymentContainer = 'app-package'

resource deploymentStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: deploymentStorageName
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: deploymentStorage
  name: 'default'
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: deploymentContainer
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${name}-plan'
  location: location
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  // The deployment storage named below must exist before the app points at it.
  dependsOn: [ container ]
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${deploymentStorage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: {
        alwaysReady: [ { name: 'http', instanceCount: alwaysReadyInstances } ]
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: 2048
        triggers: { http: { perInstanceConcurrency: httpPerInstanceConcurrency } }
      }
      runtime: { name: 'node', version: '22' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      // No ftpsState: Flex Consumption has no FTP and rejects the property (ARM error 51021).
      // Only Azure Front Door, and only ours (its x-azure-fdid), reaches the app.
      ipSecurityRestrictionsDefaultAction: 'Deny'
      ipSecurityRestrictions: [
        {
          name: 'front-door-only'
          action: 'Allow'
          priority: 100
          tag: 'ServiceTag'
          ipAddress: 'AzureFrontDoor.Backend'
          headers: { 'x-azure-fdid': [ frontDoorId ] }
        }
      ]
      scmIpSecurityRestrictionsUseMain: false
    }
  }
}

// No basic-auth (user name and password) publishing, for FTP or for the SCM site: deployments
// authenticate with Entra ID.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: { allow: false }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: { allow: false }
}

// The app's identity reaches its own host and deployment storage without keys. A module, so the
// role assignments are named from the principal id (known when the module starts): a recreated app
// gets a new principal and new assignments, never a clash with the old ones.
module hostStorageAccess 'hostStorageAccess.bicep' = {
  name: '${take(name, 40)}-host-storage'
  params: {
    storageAccountName: deploymentStorage.name
    principalId: app.identity.principalId
  }
}

module openAiAccess 'openAiAccess.bicep' = [
  for (accountId, j) in openAiAccountIds: {
    name: '${take(name, 40)}-openai-${j}'
    // The account may live in another resource group or subscription.
    scope: resourceGroup(split(accountId, '/')[2], split(accountId, '/')[4])
    params: {
      accountName: last(split(accountId, '/'))
      principalId: app.identity.principalId
    }
  }
]

output name string = app.name
output deploymentStorageName string = deploymentStorage.name
output defaultHostName string = app.properties.defaultHostName
output principalId string = app.identity.principalId
