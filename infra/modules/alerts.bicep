// The relay's alert rules and the action group they notify (docs/operations.md#alerts). Deployed only when main.bicep
// is given a receiver (an email address, a webhook, or both). Each rule is a log search alert on the Application
// Insights component, querying `customMetrics`, where the app's OpenTelemetry instruments arrive
// (shared/metrics/instruments.ts: one row per instrument, attribute set and export interval; `value` is the
// interval's sum for a counter, the last value for a gauge). A test keeps every instrument and attribute named
// here in step with that file.
@description('Where the rules live (the action group is global).')
param location string
param tags object

@description('Start of every rule\'s name and of the action group\'s: `<prefix>-dead-letters`, …')
param namePrefix string

@description('The action group\'s short name, shown in the mails and texts Azure Monitor sends (at most 12 characters).')
@maxLength(12)
param actionGroupShortName string

@description('Name of the Application Insights component the rules query (monitoring.bicep creates it).')
param appInsightsName string

@description('Address the alerts are mailed to; empty: none.')
param emailAddress string

@description('URL the alerts are posted to in the common alert schema; empty: none.')
@secure()
param webhookUrl string

@description('Minutes the oldest message of an incoming queue may wait.')
param queueAgeMinutes int

@description('Percent of slow receive answers in 10 minutes above which the slow-answers rule fires.')
param slowAnswerPercent int

@description('Minutes a backfill gap may stay open.')
param gapOpenMinutes int

@description('Days before a credential expires from which its rule fires.')
param credentialDaysLeft int

@description('Percent of 5xx answers in 15 minutes above which the server-errors rule fires.')
param serverErrorPercent int

@description('Minutes the average end-to-end delay of a kind\'s live events may reach in 15 minutes.')
param delayMinutes int

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-alerts'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: actionGroupShortName
    enabled: true
    emailReceivers: empty(emailAddress) ? [] : [{ name: 'email', emailAddress: emailAddress, useCommonAlertSchema: true }]
    webhookReceivers: empty(webhookUrl) ? [] : [{ name: 'webhook', serviceUri: webhookUrl, useCommonAlertSchema: true }]
  }
}

// Each rule's query ends in one row per alerted dimension value, with the measured column the threshold applies to.
var rules = [
  {
    suffix: 'dead-letters'
    displayName: 'Relay: dead letters waiting'
    description: 'Items are waiting on the dead-letter queue (relay.dead_letters.waiting above 0): events that were not routed and will not be until someone replays or discards them. npm run status shows their reasons; docs/operations.md#alerts says what to do.'
    severity: 1
    evaluationFrequency: 'PT5M'
    windowSize: 'PT10M'
    query: '''
customMetrics
| where name == 'relay.dead_letters.waiting'
| summarize waiting = max(value)
'''
    measure: 'waiting'
    aggregation: 'Maximum'
    operator: 'GreaterThan'
    threshold: 0
    dimensions: []
  }
  {
    suffix: 'self-check-failing'
    displayName: 'Relay: a self-check fails'
    description: 'A self-check of checkHealth reports fail (relay.health.check 2) for the check named in the alert\'s dimension: subscriptions (missing, expiring before renewal, renewal failing), validation_tokens, graph_permissions, graph_credential, encryption_certificate, tenants (a tenant near the 10,000 Teams subscriptions a tenant allows), silent_subscriptions or backfill_gaps. npm run status gives its message and fix; docs/operations.md#alerts says what to do per check.'
    severity: 1
    evaluationFrequency: 'PT5M'
    windowSize: 'PT10M'
    query: '''
customMetrics
| where name == 'relay.health.check'
| extend check = tostring(customDimensions.check)
| summarize status = max(value) by check
'''
    measure: 'status'
    aggregation: 'Maximum'
    operator: 'GreaterThanOrEqual'
    threshold: 2
    dimensions: ['check']
  }
  {
    suffix: 'self-check-warning'
    displayName: 'Relay: a self-check warns for an hour'
    description: 'A self-check of checkHealth has reported warn or worse (relay.health.check 1 or 2) at every run for an hour, for the check named in the alert: a subscription the reconciler fails to renew or has not created, a renewal overdue, a subscription silent while others of its kind deliver, a backfill gap open too long, a credential within 30 days of expiry. npm run status gives its message and fix.'
    severity: 2
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    query: '''
customMetrics
| where name == 'relay.health.check'
| extend check = tostring(customDimensions.check)
| summarize status = min(value) by check
'''
    measure: 'status'
    aggregation: 'Minimum'
    operator: 'GreaterThanOrEqual'
    threshold: 1
    dimensions: ['check']
  }
  {
    suffix: 'stopped-reporting'
    displayName: 'Relay: stopped reporting'
    description: 'The app reported relay.health.verdict within the last two days but not for 30 minutes, while checkHealth reports it every 5: the app is stopped, failing to start, or cannot send telemetry (Application Insights ingestion, the workspace\'s daily cap). Notifications are then not received; Graph retries each for 4 hours. An app that never reported (a first provisioning before its deployment) does not fire it.'
    severity: 0
    evaluationFrequency: 'PT5M'
    windowSize: 'P2D'
    query: '''
customMetrics
| where name == 'relay.health.verdict'
| summarize lastReport = max(timestamp)
| extend silentMinutes = datetime_diff('minute', now(), lastReport)
'''
    measure: 'silentMinutes'
    aggregation: 'Maximum'
    operator: 'GreaterThan'
    threshold: 30
    dimensions: []
  }
  {
    suffix: 'incoming-queue-age'
    displayName: 'Relay: incoming notifications waiting too long'
    description: 'The oldest message of an incoming queue (the queue named in the alert) has waited longer than the threshold (relay.queue.oldest_message_age_seconds, role incoming, in minutes): routing is behind or failing, and every event of that queue is late.'
    severity: 2
    evaluationFrequency: 'PT5M'
    windowSize: 'PT10M'
    query: '''
customMetrics
| where name == 'relay.queue.oldest_message_age_seconds'
| where tostring(customDimensions.role) == 'incoming'
| extend queue = tostring(customDimensions.queue)
| summarize ageMinutes = max(value) / 60.0 by queue
'''
    measure: 'ageMinutes'
    aggregation: 'Maximum'
    operator: 'GreaterThan'
    threshold: queueAgeMinutes
    dimensions: ['queue']
  }
  {
    suffix: 'slow-answers'
    displayName: 'Relay: receive answers slow'
    description: 'Over 10 minutes, more than the threshold percent of an endpoint\'s answers (relay.slow_answers over relay.answers, at least 20 answers) took longer than Graph\'s 2,900 ms mark. Graph delays every notification to that endpoint at 10 % and drops them at 15 %, which nothing recovers but a backfill.'
    severity: 1
    evaluationFrequency: 'PT5M'
    windowSize: 'PT10M'
    query: '''
customMetrics
| where name in ('relay.answers', 'relay.slow_answers')
| extend endpoint = tostring(customDimensions.endpoint)
| summarize answers = sumif(value, name == 'relay.answers'), slow = sumif(value, name == 'relay.slow_answers') by endpoint
| where answers >= 20    // fewer are too few to judge: one slow answer of ten would read as 10 %
| extend slowPercent = 100.0 * slow / answers
'''
    measure: 'slowPercent'
    aggregation: 'Maximum'
    operator: 'GreaterThan'
    threshold: slowAnswerPercent
    dimensions: ['endpoint']
  }
  {
    suffix: 'server-errors'
    displayName: 'Relay: receive endpoints answer 5xx'
    description: 'Over 15 minutes, more than the threshold percent of a receive endpoint\'s answers (named in the alert; at least 10 answers) were 5xx (relay.answers by status): those notifications were not stored (storage unreachable or too slow, the token keys unreachable, the app misconfigured). Graph retries each for 4 hours, then drops it. A single 503 (a storage blip, Microsoft\'s key rollover) is by design and does not fire it.'
    severity: 1
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    query: '''
customMetrics
| where name == 'relay.answers'
| extend endpoint = tostring(customDimensions.endpoint), status = tostring(customDimensions.status)
| summarize answers = sum(value), serverErrors = sumif(value, status startswith '5') by endpoint
| where answers >= 10
| extend serverErrorPercent = 100.0 * serverErrors / answers
'''
    measure: 'serverErrorPercent'
    aggregation: 'Maximum'
    operator: 'GreaterThan'
    threshold: serverErrorPercent
    dimensions: ['endpoint']
  }
  {
    suffix: 'event-delay'
    displayName: 'Relay: events late'
    description: 'Over 15 minutes, the average end-to-end delay of a kind\'s live events (named in the alert; relay.delay_ms: from the change\'s time in Graph to the event on its queue) exceeded the threshold\'s minutes: Graph is slow to send, or routing is behind.'
    severity: 2
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    query: '''
customMetrics
| where name == 'relay.delay_ms'
| extend teamsKind = tostring(customDimensions.kind)    // `kind` is a KQL keyword
| summarize delayMinutes = sum(valueSum) / sum(valueCount) / 60000.0 by teamsKind
'''
    measure: 'delayMinutes'
    aggregation: 'Maximum'
    operator: 'GreaterThan'
    threshold: delayMinutes
    dimensions: ['teamsKind']
  }
  {
    suffix: 'backfill-gap-open'
    displayName: 'Relay: a backfill gap stays open'
    description: 'The oldest backfill gap not yet closed has been open longer than the threshold (relay.backfill.oldest_open_gap_seconds, in minutes): events of that span are missing downstream until the backfill reads them back from Graph.'
    severity: 2
    evaluationFrequency: 'PT5M'
    windowSize: 'PT10M'
    query: '''
customMetrics
| where name == 'relay.backfill.oldest_open_gap_seconds'
| summarize openMinutes = max(value) / 60.0
'''
    measure: 'openMinutes'
    aggregation: 'Maximum'
    operator: 'GreaterThan'
    threshold: gapOpenMinutes
    dimensions: []
  }
  {
    suffix: 'credential-expiry'
    displayName: 'Relay: a certificate or secret expires soon'
    description: 'A credential (named in the alert: the encryption certificate, or the Graph client secret or certificate) expires within the threshold\'s days (relay.credential.days_left). Once the Graph credential expires the app gets no Graph token: no subscription is created or renewed, no backfill runs. The self-check fails 7 days ahead.'
    severity: 2
    evaluationFrequency: 'PT1H'
    windowSize: 'PT1H'
    query: '''
customMetrics
| where name == 'relay.credential.days_left'
| extend credential = tostring(customDimensions.credential)
| summarize daysLeft = min(value) by credential
'''
    measure: 'daysLeft'
    aggregation: 'Minimum'
    operator: 'LessThan'
    threshold: credentialDaysLeft
    dimensions: ['credential']
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for rule in rules: {
    name: '${namePrefix}-${rule.suffix}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: rule.displayName
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [appInsights.id]
      evaluationFrequency: rule.evaluationFrequency
      windowSize: rule.windowSize
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: rule.aggregation
            metricMeasureColumn: rule.measure
            operator: rule.operator
            threshold: rule.threshold
            dimensions: map(rule.dimensions, d => { name: d, operator: 'Include', values: ['*'] })
            failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
          }
        ]
      }
      autoMitigate: true
      actions: { actionGroups: [actionGroup.id] }
    }
  }
]

output actionGroupName string = actionGroup.name
output ruleNames array = [for (rule, i) in rules: alertRules[i].name]
