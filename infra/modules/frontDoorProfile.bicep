// The Front Door Standard profile. Deployed before the apps so they can be locked to its id.

param name string

resource profile 'Microsoft.Cdn/profiles@2024-02-01' = {
  name: name
  location: 'global'
  sku: { name: 'Standard_AzureFrontDoor' }
  properties: {
    // The most Front Door allows: long non-streamed completions need it (Functions' own limit is 230 s).
    originResponseTimeoutSeconds: 240
  }
}

output name string = profile.name
output frontDoorId string = profile.properties.frontDoorId
