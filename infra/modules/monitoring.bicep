// Log Analytics workspace and workspace-based Application Insights, shared by every region.

param name string
param location string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${name}-logs'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${name}-ai'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Telemetry only with an Entra token: the apps hold Monitoring Metrics Publisher.
    DisableLocalAuth: true
  }
}

output connectionString string = insights.properties.ConnectionString
output insightsName string = insights.name
