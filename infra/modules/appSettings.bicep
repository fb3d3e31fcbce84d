// Every app setting of one router app, as a resource of its own. main.bicep deploys it after the
// app's identity holds Key Vault Secrets User (and its storage and monitoring roles): App Service
// resolves Key Vault references when settings are written and caches a failure for up to a day,
// so writing them before the grant would leave both regions answering 500 until then.
// After rotating a secret: POST .../sites/<app>/config/configreferences/appsettings/refresh (docs/deploy.md).

param appName string
param deploymentStorageName string
param appInsightsConnectionString string
@description('ROUTER_CONFIG as JSON text.')
param routerConfig string
param clientKeysSecretUri string
param vaultUri string
@description('App setting names held in Key Vault: backend API keys (auth.keySetting) and named clients\' keys (clients[].keySetting); each references the secret of the same name with dashes.')
param secretSettings array
param stateTableEndpoint string
param stateTable string
@description('Blob container of the shared response cache, in the state account (its Blob service is derived from ROUTER_STATE).')
param cacheContainer string
param frontDoorId string

resource app 'Microsoft.Web/sites@2024-04-01' existing = {
  name: appName
}

resource appsettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: union(
    {
      AzureWebJobsStorage__accountName: deploymentStorageName
      APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
      // Application Insights takes telemetry only with an Entra token (local auth is off).
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
      ROUTER_CONFIG: routerConfig
      ROUTER_CLIENT_KEYS: '@Microsoft.KeyVault(SecretUri=${clientKeysSecretUri})'
      ROUTER_STATE: stateTableEndpoint
      ROUTER_STATE_TABLE: stateTable
      ROUTER_STATE_REFRESH: 'PT1S'
      ROUTER_CACHE_CONTAINER: cacheContainer
      ROUTER_FRONT_DOOR_ID: frontDoorId
    },
    toObject(secretSettings, setting => setting, setting => '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/${replace(setting, '_', '-')})')
  )
}
