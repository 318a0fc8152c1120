import { describe, expect, it } from 'vitest';
import { evaluateArm } from '../../dev/azure-stack/arm-expression.js';
import { RELAY_INSTRUMENTS } from '../../shared/metrics/instruments.js';
import { deep, moduleScope, outputs, resources, template, type Json } from '../helpers/compiled-arm-template.js';
import { kqlDiagnostics } from '../helpers/kql.js';

/**
 * Application Insights' `customMetrics` table as a rule scoped to the component queries it (its documented
 * columns: learn.microsoft.com/azure/azure-monitor/reference/tables/appmetrics, in the component's classic names).
 */
const APP_INSIGHTS_TABLES = {
  customMetrics:
    '(timestamp:datetime, name:string, value:real, valueCount:int, valueSum:real, valueMin:real, valueMax:real, valueStdDev:real, customDimensions:dynamic, operation_Name:string, operation_Id:string, cloud_RoleName:string, cloud_RoleInstance:string, appId:string, appName:string, iKey:string, sdkVersion:string, itemId:string, itemType:string, itemCount:int, client_Type:string, _ResourceId:string)',
};

/**
 * infra/modules/alerts.bicep as the real Bicep CLI compiled it into .local/infra/main.json (`npm run
 * infra:check`), read the way Resource Manager would deploy it: the alerts module's condition, its action group
 * and its log alert rules for given parameters of main.bicep, and each rule's KQL against the instruments the
 * app reports (shared/metrics/instruments.ts).
 */
const APP_INSIGHTS = 'appi-relay-prod-tok3n';
const EMAIL = 'relay-oncall@example.org';
const WEBHOOK = 'https://hooks.example.org/alerts?code=webhook-key-1';

interface Deployed {
  readonly deployed: boolean;
  readonly actionGroups: Json[];
  readonly rules: Json[];
  /** main.bicep's ALERT_RULE_NAMES output. */
  readonly ruleNamesOutput: unknown;
}

/** What the template deploys of the alerts for these main.bicep parameters. */
function alertsFor(parameters: Record<string, unknown>): Deployed {
  const { module, scope, main } = moduleScope('alerts', { environmentName: 'Relay-Prod', ...parameters }, { monitoring: outputs({ appInsightsName: APP_INSIGHTS }) });
  const mainOutput = (moduleOutputs: Record<string, unknown>) =>
    evaluateArm(template().outputs.ALERT_RULE_NAMES.value, { ...main, reference: (name) => (name === 'alerts' ? outputs(moduleOutputs) : main.reference?.(name)) });
  if (!module.condition) return { deployed: false, actionGroups: [], rules: [], ruleNamesOutput: mainOutput({}) };
  /** Each deployed instance of a resource: one, or one per copy index of its loop. */
  const instances = (r: Json): Json[] => {
    const shape = { name: r.name, location: r.location, kind: r.kind, properties: r.properties };
    if (!r.copy) return evaluateArm(r.condition ?? true, scope) ? [deep(shape, scope) as Json] : [];
    return Array.from({ length: Number(evaluateArm(r.copy.count, scope)) }, (_, i) => deep(shape, { ...scope, copyIndex: () => i }) as Json);
  };
  const of = (type: string) =>
    resources(module)
      .filter((r) => r.type === type)
      .flatMap(instances);
  const names = module.outputs.ruleNames.copy;
  const ruleNames = Array.from({ length: Number(evaluateArm(names.count, scope)) }, (_, i) => evaluateArm(names.input, { ...scope, copyIndex: () => i }));
  return { deployed: true, actionGroups: of('Microsoft.Insights/actionGroups'), rules: of('Microsoft.Insights/scheduledQueryRules'), ruleNamesOutput: mainOutput({ ruleNames }) };
}

const RULE_NAMES = [
  'relay-relay-prod-dead-letters',
  'relay-relay-prod-self-check-failing',
  'relay-relay-prod-self-check-warning',
  'relay-relay-prod-stopped-reporting',
  'relay-relay-prod-incoming-queue-age',
  'relay-relay-prod-slow-answers',
  'relay-relay-prod-server-errors',
  'relay-relay-prod-event-delay',
  'relay-relay-prod-backfill-gap-open',
  'relay-relay-prod-credential-expiry',
];
const rule = (d: Deployed, suffix: string): Json => {
  const found = d.rules.find((r) => r.name === `relay-relay-prod-${suffix}`);
  if (!found) throw new Error(`No rule ${suffix}`);
  return found;
};
const criterion = (r: Json): Json => r.properties.criteria.allOf[0];

/** The KQL's instrument names ('relay.…' literals) and the customDimensions it reads (`.x`, `['x']`, `["x"]`). */
function readKql(query: string): { instruments: string[]; dimensions: string[] } {
  return {
    instruments: [...query.matchAll(/['"](relay\.[\w.]+)['"]/g)].map((m) => m[1]!),
    dimensions: [...query.matchAll(/customDimensions(?:\.(\w+)|\[\s*['"](\w+)['"]\s*\])/g)].map((m) => m[1] ?? m[2]!),
  };
}

describe('alert rules and their action group (infra/modules/alerts.bicep)', () => {
  it('deploys no action group and no rule without a receiver, and lists none', () => {
    const none = alertsFor({});
    expect(none).toEqual({ deployed: false, actionGroups: [], rules: [], ruleNamesOutput: [] });
    expect(alertsFor({ alertEmailAddress: '', alertWebhookUrl: '' }).deployed).toBe(false);
    // Every action group and rule of the template is inside the alerts module, which its condition governs.
    const outside = resources({ resources: Object.values(template().resources).filter((r: any) => r.name !== 'alerts') });
    expect(outside.filter((r) => ['Microsoft.Insights/actionGroups', 'Microsoft.Insights/scheduledQueryRules'].includes(r.type))).toEqual([]);
  });

  it.each([
    { receiver: 'an email address', given: { alertEmailAddress: EMAIL }, email: [{ name: 'email', emailAddress: EMAIL, useCommonAlertSchema: true }], webhook: [] },
    { receiver: 'a webhook', given: { alertWebhookUrl: WEBHOOK }, email: [], webhook: [{ name: 'webhook', serviceUri: WEBHOOK, useCommonAlertSchema: true }] },
  ])('with $receiver, deploys the action group with it and every rule, each notifying the group and querying the Application Insights component', ({ given, email, webhook }) => {
    const d = alertsFor(given);
    expect(d.deployed).toBe(true);
    expect(d.actionGroups).toHaveLength(1);
    const group = d.actionGroups[0]!;
    expect(group.name).toBe('relay-relay-prod-alerts');
    expect(group.location).toBe('global');
    expect(group.properties).toMatchObject({ enabled: true, emailReceivers: email, webhookReceivers: webhook });
    expect(group.properties.groupShortName).toBe('relay-prod');
    expect(String(group.properties.groupShortName).length).toBeLessThanOrEqual(12);

    expect(d.rules.map((r) => r.name)).toEqual(RULE_NAMES);
    expect(d.ruleNamesOutput).toEqual(RULE_NAMES);
    const groupId = `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/actionGroups/${group.name}`;
    const componentId = `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/components/${APP_INSIGHTS}`;
    for (const r of d.rules) {
      expect(r.kind, r.name).toBe('LogAlert');
      expect(r.properties, r.name).toMatchObject({ enabled: true, autoMitigate: true, scopes: [componentId], actions: { actionGroups: [groupId] } });
      expect([0, 1, 2, 3, 4], r.name).toContain(r.properties.severity);
      expect(r.properties.description.length, r.name).toBeGreaterThan(60);
      expect(r.properties.criteria.allOf, r.name).toHaveLength(1);
      const minutes = (iso: string) => {
        const [, d = '0', h = '0', m = '0'] = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(iso) ?? [];
        return Number(d) * 1440 + Number(h) * 60 + Number(m);
      };
      expect(minutes(r.properties.windowSize), r.name).toBeGreaterThan(0);
      expect(minutes(r.properties.evaluationFrequency), r.name).toBeLessThanOrEqual(minutes(r.properties.windowSize));
      expect(typeof criterion(r).threshold, r.name).toBe('number');
    }
  });

  it("gives each rule its threshold: the template's defaults, or the parameters' values", () => {
    const thresholds = (d: Deployed) => Object.fromEntries(d.rules.map((r) => [r.name.replace('relay-relay-prod-', ''), [criterion(r).operator, criterion(r).threshold]]));
    expect(thresholds(alertsFor({ alertEmailAddress: EMAIL }))).toEqual({
      'dead-letters': ['GreaterThan', 0],
      'self-check-failing': ['GreaterThanOrEqual', 2],
      'self-check-warning': ['GreaterThanOrEqual', 1],
      'stopped-reporting': ['GreaterThan', 30],
      'incoming-queue-age': ['GreaterThan', 10],
      'slow-answers': ['GreaterThan', 5],
      'server-errors': ['GreaterThan', 10],
      'event-delay': ['GreaterThan', 15],
      'backfill-gap-open': ['GreaterThan', 120],
      'credential-expiry': ['LessThan', 30],
    });
    const chosen = alertsFor({
      alertEmailAddress: EMAIL,
      alertQueueAgeMinutes: 25,
      alertSlowAnswerPercent: 8,
      alertGapOpenMinutes: 45,
      alertCredentialDaysLeft: 14,
      alertServerErrorPercent: 20,
      alertDelayMinutes: 5,
    });
    expect(thresholds(chosen)).toMatchObject({
      'server-errors': ['GreaterThan', 20],
      'event-delay': ['GreaterThan', 5],
      'incoming-queue-age': ['GreaterThan', 25],
      'slow-answers': ['GreaterThan', 8],
      'backfill-gap-open': ['GreaterThan', 45],
      'credential-expiry': ['LessThan', 14],
    });
    // Graph delays every notification at 10 % slow answers: a threshold beyond 100 % is refused before deploying.
    expect(template().parameters.alertSlowAnswerPercent).toMatchObject({ minValue: 1, maxValue: 100 });
  });

  it('queries only instruments the app reports, and only attributes those instruments carry', () => {
    const byName = new Map<string, readonly string[]>(RELAY_INSTRUMENTS.map((i) => [i.name, i.attributes]));
    const queried = new Set<string>();
    for (const r of alertsFor({ alertEmailAddress: EMAIL }).rules) {
      const { query, metricMeasureColumn, dimensions } = criterion(r);
      expect(query, r.name).toMatch(/^customMetrics\n/);
      const { instruments, dimensions: read } = readKql(query);
      expect(instruments.length, r.name).toBeGreaterThan(0);
      for (const name of instruments) {
        expect(byName.has(name), `${r.name}: ${name} is not in RELAY_INSTRUMENTS`).toBe(true);
        for (const attribute of read) expect(byName.get(name), `${r.name}: ${name} has no attribute ${attribute}`).toContain(attribute);
        queried.add(name);
      }
      // No customDimensions read another way (a variable key, bag_unpack) that the check above would miss.
      expect(query.match(/customDimensions/g)?.length ?? 0, r.name).toBe(read.length);
      // The measured column and every split dimension are columns of the query's result.
      expect(query, r.name).toMatch(new RegExp(`\\b${metricMeasureColumn}\\s*=`));
      for (const { name, operator, values } of dimensions as Json[]) {
        expect(query, r.name).toMatch(new RegExp(`\\bby\\b[^\\n|]*\\b${name}\\b`));
        expect({ operator, values }).toEqual({ operator: 'Include', values: ['*'] });
      }
    }
    expect([...queried].sort()).toEqual(
      [
        'relay.dead_letters.waiting',
        'relay.health.check',
        'relay.health.verdict',
        'relay.queue.oldest_message_age_seconds',
        'relay.slow_answers',
        'relay.answers',
        'relay.backfill.oldest_open_gap_seconds',
        'relay.credential.days_left',
        'relay.delay_ms',
      ].sort(),
    );
  });

  it('names, in its alert, the failing check, the late queue, the slow or failing endpoint and the expiring credential', () => {
    const d = alertsFor({ alertWebhookUrl: WEBHOOK });
    const split = (suffix: string) => (criterion(rule(d, suffix)).dimensions as Json[]).map((x) => x.name);
    expect(split('self-check-failing')).toEqual(['check']);
    expect(split('incoming-queue-age')).toEqual(['queue']);
    expect(split('slow-answers')).toEqual(['endpoint']);
    expect(split('server-errors')).toEqual(['endpoint']);
    expect(split('self-check-warning')).toEqual(['check']);
    expect(split('event-delay')).toEqual(['teamsKind']);
    expect(split('credential-expiry')).toEqual(['credential']);
    expect(criterion(rule(d, 'incoming-queue-age')).query).toMatch(/tostring\(customDimensions\.role\) == 'incoming'/);
    expect(criterion(rule(d, 'server-errors')).query).toMatch(/status = tostring\(customDimensions\.status\)/);
    expect(criterion(rule(d, 'server-errors')).query).toMatch(/sumif\(value, status startswith '5'\)/);
  });

  it('fires on absence only after the app reported: the stopped-reporting rule measures the minutes since the last verdict of two days', () => {
    const stopped = rule(alertsFor({ alertEmailAddress: EMAIL }), 'stopped-reporting');
    expect(stopped.properties.windowSize).toBe('P2D');
    const { query, metricMeasureColumn, timeAggregation } = criterion(stopped);
    // summarize with no `by` answers one row even when nothing matched: max(timestamp) is then null, and so is the
    // measure, which no threshold exceeds (an app never deployed does not fire it).
    expect(query).toMatch(/\| summarize lastReport = max\(timestamp\)\n/);
    expect(query.trim().split('\n').at(-1)).toBe(`| extend ${metricMeasureColumn} = datetime_diff('minute', now(), lastReport)`);
    expect(timeAggregation).toBe('Maximum');
  });

  it('fires the warning rule only when every report of the hour warned or failed', () => {
    const warning = rule(alertsFor({ alertEmailAddress: EMAIL }), 'self-check-warning');
    expect(warning.properties.windowSize).toBe('PT1H');
    expect(criterion(warning).query).toMatch(/summarize status = min\(value\) by check/);
  });

  it("writes every rule's query in valid KQL for Application Insights' customMetrics table (Microsoft's Kusto language service)", () => {
    for (const r of alertsFor({ alertEmailAddress: EMAIL }).rules) expect(kqlDiagnostics(criterion(r).query, APP_INSIGHTS_TABLES), r.name).toEqual([]);
    // The check bites: a column that table lacks, or a function Kusto does not have, is named.
    expect(kqlDiagnostics("customMetrics | where nme == 'relay.answers' | summarize n = sum(value)", APP_INSIGHTS_TABLES).join()).toMatch(/'nme'/);
    expect(kqlDiagnostics('customMetrics | summarize n = sumiff(value, true)', APP_INSIGHTS_TABLES).join()).toMatch(/sumiff/);
  });

  it('keeps the webhook URL a secure parameter, out of every output', () => {
    const t = template();
    expect(t.parameters.alertWebhookUrl).toMatchObject({ type: 'securestring', defaultValue: '' });
    const module = resources(t).find((r) => r.type === 'Microsoft.Resources/deployments' && r.name === 'alerts')!;
    expect(module.properties.template.parameters.webhookUrl.type).toBe('securestring');
    for (const o of [t.outputs, module.properties.template.outputs]) expect(JSON.stringify(o)).not.toMatch(/webhook/i);
    expect(JSON.stringify(alertsFor({ alertWebhookUrl: WEBHOOK }).ruleNamesOutput)).not.toContain('webhook-key-1');
  });
});
