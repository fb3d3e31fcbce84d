// The storage account holding shared state: identity access only (no shared keys). Its table
// holds breaker trips, owner records and client usage; its blob container holds the response
// cache's shared answers, which a lifecycle rule deletes once they are older than any ttl.

param name string
param location string
param tableName string
@description('Blob container of the shared response cache (ROUTER_CACHE_CONTAINER).')
param cacheContainer string = 'routercache'
@description('Days after which a cached answer is deleted: at least the longest cache.ttl, rounded up (lifecycle rules count in days).')
@minValue(1)
param cacheRetentionDays int = 1

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_ZRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource table 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tables
  name: tableName
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource cache 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: cacheContainer
  properties: { publicAccess: 'None' }
}

// The router never serves an expired entry (each carries its expiry); this rule only keeps the
// container from growing with answers nobody asks for again.
resource expiry 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'expire-cached-answers'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: [ 'blockBlob' ], prefixMatch: [ '${cacheContainer}/' ] }
            actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: cacheRetentionDays } } }
          }
        }
      ]
    }
  }
}

output name string = account.name
output tableEndpoint string = account.properties.primaryEndpoints.table
output cacheContainer string = cache.name
