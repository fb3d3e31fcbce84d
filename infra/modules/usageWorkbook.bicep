// An Azure Monitor workbook over the router's per-call log lines (Application Insights `traces`,
// one JSON line per call with `"event":"call"`): tokens and calls by client, deployment and
// backend, and the calls the router refused for a client's limits. The README shows the same KQL.

param location string
param insightsName string
param displayName string = 'Azure OpenAI edge router: usage by client'

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: insightsName
}

// Every query starts from the same parsed call lines.
var calls = 'traces | where message has \'"event":"call"\' | extend c = parse_json(message) | extend client = tostring(c.client), deployment = tostring(c.deployment), backend = tostring(c.backend), status = toint(c.status), totalTokens = tolong(c.totalTokens), promptTokens = tolong(c.promptTokens), completionTokens = tolong(c.completionTokens), estimated = tobool(c.tokensEstimated), cache = tostring(c.cache), savedTokens = tolong(c.savedTokens)'

var query = {
  version: 'KqlItem/1.0'
  queryType: 0
  resourceType: 'microsoft.insights/components'
}

var workbook = {
  version: 'Notebook/1.0'
  items: [
    {
      type: 1
      content: { json: '## Usage by client\nFrom the router\'s per-call log lines. Tokens are what the backends reported; `estimated` marks streams that reported none.' }
    }
    {
      type: 9
      content: {
        version: 'KqlParameterItem/1.0'
        parameters: [
          {
            name: 'TimeRange'
            type: 4
            isRequired: true
            value: { durationMs: 86400000 }
            typeSettings: {
              selectableValues: [
                { durationMs: 3600000 }
                { durationMs: 86400000 }
                { durationMs: 604800000 }
              ]
            }
          }
        ]
      }
    }
    {
      type: 3
      content: union(query, {
        title: 'Tokens per client'
        query: '${calls} | where isnotempty(client) | summarize tokens = sum(totalTokens) by client, bin(timestamp, 5m) | render timechart'
        timeContextFromParameter: 'TimeRange'
        visualization: 'timechart'
      })
    }
    {
      type: 3
      content: union(query, {
        title: 'Calls and tokens by client, deployment and backend'
        query: '${calls} | where isnotempty(client) | summarize calls = count(), tokens = sum(totalTokens), promptTokens = sum(promptTokens), completionTokens = sum(completionTokens), estimatedCalls = countif(estimated) by client, deployment, backend | order by tokens desc'
        timeContextFromParameter: 'TimeRange'
        visualization: 'table'
      })
    }
    {
      type: 3
      content: union(query, {
        title: 'Tokens saved by the response cache, per client and deployment'
        query: '${calls} | where cache == "hit" | summarize hits = count(), savedTokens = sum(savedTokens) by client, deployment, bin(timestamp, 1h) | order by savedTokens desc'
        timeContextFromParameter: 'TimeRange'
        visualization: 'table'
      })
    }
    {
      type: 3
      content: union(query, {
        title: 'Calls per backend'
        query: '${calls} | where isnotempty(backend) | summarize calls = count() by backend, bin(timestamp, 5m) | render timechart'
        timeContextFromParameter: 'TimeRange'
        visualization: 'timechart'
      })
    }
    {
      type: 3
      content: union(query, {
        title: 'Calls refused for a client\'s limits (429) or deployments (403)'
        query: '${calls} | where c.outcome == "rejected" and status in (403, 429) | summarize refused = count() by client, status, bin(timestamp, 5m) | render columnchart'
        timeContextFromParameter: 'TimeRange'
        visualization: 'columnchart'
      })
    }
  ]
  fallbackResourceIds: [ insights.id ]
}

resource usage 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID; this one is stable per Application Insights resource.
  name: guid(insights.id, 'router-usage-workbook')
  location: location
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: insights.id
    serializedData: string(workbook)
  }
}

output workbookId string = usage.id
