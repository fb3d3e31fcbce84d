// Endpoint, origin group (probing /health), one origin per region, and the route. No caching and
// no compression on the route: both would buffer server-sent event streams.

param profileName string
param endpointName string
@description('[{ name, hostName, priority, weight }]')
param origins array

resource profile 'Microsoft.Cdn/profiles@2024-02-01' existing = {
  name: profileName
}

resource endpoint 'Microsoft.Cdn/profiles/afdEndpoints@2024-02-01' = {
  parent: profile
  name: endpointName
  location: 'global'
  properties: { enabledState: 'Enabled' }
}

resource group 'Microsoft.Cdn/profiles/originGroups@2024-02-01' = {
  parent: profile
  name: 'routers'
  properties: {
    // HEAD /health every 30 s from each edge; a region is out when fewer than 2 of the last 4
    // probes succeed (about a minute) and back once 2 of 4 do. The router answers /health from memory, so the
    // probes cost no backend or storage call.
    healthProbeSettings: {
      probePath: '/health'
      probeRequestType: 'HEAD'
      probeProtocol: 'Https'
      probeIntervalInSeconds: 30
    }
    loadBalancingSettings: {
      sampleSize: 4
      successfulSamplesRequired: 2
      additionalLatencyInMilliseconds: 50
    }
    sessionAffinityState: 'Disabled'
  }
}

resource originResources 'Microsoft.Cdn/profiles/originGroups/origins@2024-02-01' = [
  for origin in origins: {
    parent: group
    name: origin.name
    properties: {
      hostName: origin.hostName
      originHostHeader: origin.hostName
      httpPort: 80
      httpsPort: 443
      priority: origin.priority
      weight: origin.weight
      enabledState: 'Enabled'
      enforceCertificateNameCheck: true
    }
  }
]

resource route 'Microsoft.Cdn/profiles/afdEndpoints/routes@2024-02-01' = {
  parent: endpoint
  name: 'router'
  dependsOn: [ originResources ]
  properties: {
    originGroup: { id: group.id }
    supportedProtocols: [ 'Https' ]
    patternsToMatch: [ '/openai/*', '/health', '/status' ]
    forwardingProtocol: 'HttpsOnly'
    httpsRedirect: 'Disabled'
    linkToDefaultDomain: 'Enabled'
    enabledState: 'Enabled'
  }
}

output hostName string = endpoint.properties.hostName
output originGroupName string = group.name
