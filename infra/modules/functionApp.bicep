// One region's router: a Linux Function App on the Flex Consumption plan (Node 22), its deployment
// storage, every app setting the code reads, and an access restriction that admits only our Front Door.

param name string
param location string
param deploymentStorageName string
param appInsightsConnectionString string
@description('ROUTER_CONFIG as JSON text.')
param routerConfig string
param clientKeysSecretUri string
param vaultUri string
@description('App setting names of backend API keys (auth.keySetting); each references the Key Vault secret of the same name with dashes.')
param backendKeySettings array
param stateTableEndpoint string
param stateTable string
param frontDoorId string
param httpPerInstanceConcurrency int
param alwaysReadyInstances int
param maximumInstanceCount int
@description('Azure OpenAI accounts this app may call; it gets Cognitive Services OpenAI User on each.')
param openAiAccountIds array

var deploymentContainer = 'app-package'
var blobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var queueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var tableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'

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
      appSettings: concat(
        [
          { name: 'AzureWebJobsStorage__accountName', value: deploymentStorage.name }
          { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsightsConnectionString }
          { name: 'ROUTER_CONFIG', value: routerConfig }
          { name: 'ROUTER_CLIENT_KEYS', value: '@Microsoft.KeyVault(SecretUri=${clientKeysSecretUri})' }
          { name: 'ROUTER_STATE', value: stateTableEndpoint }
          { name: 'ROUTER_STATE_TABLE', value: stateTable }
          { name: 'ROUTER_STATE_REFRESH', value: 'PT1S' }
          { name: 'ROUTER_FRONT_DOOR_ID', value: frontDoorId }
        ],
        map(backendKeySettings, setting => {
          name: setting
          value: '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/${replace(setting, '_', '-')})'
        })
      )
    }
  }
}

// The app's identity reaches its own host and deployment storage without keys.
resource hostStorageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in [ blobDataOwner, queueDataContributor, tableDataContributor ]: {
    name: guid(deploymentStorage.id, app.id, role)
    scope: deploymentStorage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: app.identity.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

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
output defaultHostName string = app.properties.defaultHostName
output principalId string = app.identity.principalId
