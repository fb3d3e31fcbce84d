// One app's identity on its own deployment storage: blobs (the package), queues and tables (the
// Functions host's bookkeeping). Named from the principal id, so a recreated app never clashes.

param storageAccountName string
param principalId string

var blobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var queueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var tableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource roles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in [ blobDataOwner, queueDataContributor, tableDataContributor ]: {
    name: guid(storage.id, principalId, role)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]
