// The router in two or more regions behind Azure Front Door Standard.
// Per region: a Flex Consumption Function App (Node 22, system-assigned identity). Shared: the
// state storage account (identity only), Log Analytics + Application Insights, Key Vault with the
// client keys and backend API keys, and the Front Door that the apps accept traffic from.
// Deploy: npm run deploy -- --resource-group <rg> (see docs/deploy.md), or az deployment group create
// -g <rg> -f infra/main.bicep -p infra/main.parameters.json -p @secrets.json

targetScope = 'resourceGroup'

@description('Short prefix for resource names: lowercase letters and digits only (storage account names allow nothing else).')
@maxLength(12)
param namePrefix string = 'aoairouter'

@description('Azure regions that each get a router Function App; two or more.')
@minLength(2)
param regions array

@description('activeActive: every region is an equal origin and Front Door sends each caller to the healthy region nearest to it (lowest latency, within 50 ms the load is shared). activePassive: the first region takes all traffic while healthy; the others are standbys in list order (origin priorities 1–5: a sixth region and later share priority 5).')
@allowed([
  'activeActive'
  'activePassive'
])
param mode string = 'activeActive'

@description('Resource IDs of the Azure OpenAI accounts the router may call (the apps get Cognitive Services OpenAI User on each).')
param openAiAccountIds array

@description('The pool configuration (ROUTER_CONFIG), as an object.')
param routerConfig object

@description('Comma-separated client keys (ROUTER_CLIENT_KEYS); stored in Key Vault.')
@secure()
param clientKeys string

@description('API keys of backends with auth.type apiKey: { "<keySetting>": "<key>" }. Stored in Key Vault, referenced from app settings.')
@secure()
param backendApiKeys object = {}

@description('Keys of named clients (routerConfig.clients[].keySetting): { "<keySetting>": "<key>,<key>" }. Stored in Key Vault, referenced from app settings.')
@secure()
param clientKeySecrets object = {}

@description('\'recover\' when a Key Vault of this deployment was deleted less than 7 days ago (the deploy step looks); else \'default\'.')
@allowed([
  'default'
  'recover'
])
param keyVaultCreateMode string = 'default'

@description('Region of the shared resources (state storage, Key Vault, monitoring). Default: the first router region.')
param sharedLocation string = regions[0]

@description('HTTP requests one instance handles at once. The router is I/O-bound (it waits on Azure OpenAI), so this is high.')
param httpPerInstanceConcurrency int = 64

@description('Instances kept warm per app (always ready).')
param alwaysReadyInstances int = 1

@description('Scale-out limit per app (Flex Consumption accepts 40 to 1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Days a shared cached answer is kept before the lifecycle rule deletes it: at least the longest cache.ttl of routerConfig, in whole days.')
@minValue(1)
param cacheRetentionDays int = 1

var suffix = take(uniqueString(resourceGroup().id), 8)
var stateTable = 'routerstate'

// Every app setting whose value is a Key Vault reference: backend API keys and named clients' keys.
var clientKeySettings = [for c in (routerConfig.?clients ?? []): c.keySetting]
var secretSettings = union([for item in items(backendApiKeys): item.key], clientKeySettings)

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    name: '${namePrefix}-${suffix}'
    location: sharedLocation
  }
}

module workbook 'modules/usageWorkbook.bicep' = {
  name: 'usageWorkbook'
  params: {
    location: sharedLocation
    insightsName: monitoring.outputs.insightsName
  }
}

module state 'modules/stateStorage.bicep' = {
  name: 'state'
  params: {
    name: take('${namePrefix}st${suffix}', 24)
    location: sharedLocation
    tableName: stateTable
    cacheRetentionDays: cacheRetentionDays
  }
}

module vault 'modules/keyVault.bicep' = {
  name: 'vault'
  params: {
    name: take('${namePrefix}-kv-${suffix}', 24)
    location: sharedLocation
    clientKeys: clientKeys
    settingSecrets: union(backendApiKeys, clientKeySecrets)
    createMode: keyVaultCreateMode
  }
}

module frontDoorProfile 'modules/frontDoorProfile.bicep' = {
  name: 'frontDoorProfile'
  params: {
    name: '${namePrefix}-fd-${suffix}'
  }
}

module apps 'modules/functionApp.bicep' = [
  for region in regions: {
    name: 'app-${region}'
    params: {
      name: take('${namePrefix}-${region}-${suffix}', 58)
      location: region
      // Unique per region: truncated region names collide (australiaeast / australiasoutheast).
      deploymentStorageName: take('${namePrefix}d${uniqueString(resourceGroup().id, region)}', 24)
      frontDoorId: frontDoorProfile.outputs.frontDoorId
      httpPerInstanceConcurrency: httpPerInstanceConcurrency
      alwaysReadyInstances: alwaysReadyInstances
      maximumInstanceCount: maximumInstanceCount
      openAiAccountIds: openAiAccountIds
    }
  }
]

module access 'modules/sharedAccess.bicep' = [
  for (region, i) in regions: {
    name: 'access-${region}'
    params: {
      principalId: apps[i].outputs.principalId
      stateAccountName: state.outputs.name
      vaultName: vault.outputs.name
      insightsName: monitoring.outputs.insightsName
    }
  }
]

// The app settings last: once the identity may read the Key Vault secrets they reference.
module settings 'modules/appSettings.bicep' = [
  for (region, i) in regions: {
    name: 'settings-${region}'
    dependsOn: [ access[i] ]
    params: {
      appName: apps[i].outputs.name
      deploymentStorageName: apps[i].outputs.deploymentStorageName
      appInsightsConnectionString: monitoring.outputs.connectionString
      routerConfig: string(routerConfig)
      clientKeysSecretUri: vault.outputs.clientKeysSecretUri
      vaultUri: vault.outputs.vaultUri
      secretSettings: secretSettings
      stateTableEndpoint: state.outputs.tableEndpoint
      stateTable: stateTable
      cacheContainer: state.outputs.cacheContainer
      frontDoorId: frontDoorProfile.outputs.frontDoorId
    }
  }
]

module frontDoor 'modules/frontDoorRoutes.bicep' = {
  name: 'frontDoorRoutes'
  params: {
    profileName: frontDoorProfile.outputs.name
    endpointName: '${namePrefix}-${suffix}'
    origins: [
      for (region, i) in regions: {
        name: region
        hostName: apps[i].outputs.defaultHostName
        // Front Door origin priorities run 1–5.
        priority: mode == 'activeActive' ? 1 : min(i + 1, 5)
        weight: 1000
      }
    ]
  }
}

@description('Call the router here, with the official SDKs (endpoint) and a client key.')
output frontDoorEndpoint string = 'https://${frontDoor.outputs.hostName}'

@description('Publish the code to each: func azure functionapp publish <name>.')
output functionAppNames array = [for (region, i) in regions: apps[i].outputs.name]

@description('The x-azure-fdid the apps accept (ROUTER_FRONT_DOOR_ID).')
output frontDoorId string = frontDoorProfile.outputs.frontDoorId

@description('The Front Door profile and its origin group, for the post-deploy checks (az afd origin list).')
output frontDoorProfileName string = frontDoorProfile.outputs.name
output frontDoorOriginGroupName string = frontDoor.outputs.originGroupName
