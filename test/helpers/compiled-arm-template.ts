import { existsSync, readFileSync } from 'node:fs';
import { evaluateArm, type ArmScope } from '../../dev/azure-stack/arm-expression.js';

/**
 * The ARM template `npm run infra:check` compiled from infra/main.bicep with the real Bicep CLI, and what Azure
 * Resource Manager would deploy from it inside a module for given parameters, read without deploying.
 */
export type Json = Record<string, any>;

const path = new URL('../../.local/infra/main.json', import.meta.url);
export const template = (): Json => {
  if (!existsSync(path)) throw new Error('No compiled template: npm test runs npm run infra:check first.');
  return JSON.parse(readFileSync(path, 'utf8')) as Json;
};

/** Every resource, modules' nested templates included. */
export function resources(t: Json): Json[] {
  const list: Json[] = Array.isArray(t.resources) ? t.resources : Object.values(t.resources ?? {});
  return list.flatMap((r) => [r, ...(r.type === 'Microsoft.Resources/deployments' ? resources(r.properties.template) : [])]);
}

/** A value at any depth with every expression in it evaluated. */
export const deep = (value: unknown, scope: ArmScope): unknown =>
  Array.isArray(value)
    ? value.map((v) => deep(v, scope))
    : value && typeof value === 'object'
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deep(v, scope)]))
      : evaluateArm(value, scope);

/** What `reference()` gives for a deployed module: its outputs. */
export const outputs = (o: Record<string, unknown>) => ({ outputs: Object.fromEntries(Object.entries(o).map(([k, value]) => [k, { value }])) });

/** A module parameter's value: `{ value }`, or an expression that gives `{ value }` (a conditional value compiles so). */
const moduleParameter = (entry: unknown, main: ArmScope): unknown => (typeof entry === 'string' ? (evaluateArm(entry, main) as Json).value : evaluateArm((entry as Json | undefined)?.value, main));

/**
 * What ARM deploys inside a module for these parameters (the template's defaults for the others): a scope in which
 * the module's parameters are the main template's expressions evaluated, and `reference()` answers what `deployed`
 * says a deployed module or resource reports; `main`, the main template's own scope. The module's `condition` is
 * evaluated: false, ARM deploys none of it.
 */
export function moduleScope(moduleName: string, given: Record<string, unknown>, deployed: Record<string, unknown> = {}): { module: Json; scope: ArmScope; main: ArmScope } {
  const t = template();
  const context = {
    environment: { name: 'AzureCloud', suffixes: { storage: 'core.windows.net', keyvaultDns: '.vault.azure.net' } },
    subscription: { id: '/subscriptions/s', subscriptionId: 's' },
    resourceGroup: { id: '/subscriptions/s/resourceGroups/rg', name: 'rg', location: 'westeurope' },
  };
  const reference = (name: string) => {
    if (!(name in deployed)) throw new Error(`reference('${name}') is not expected here.`);
    return deployed[name];
  };
  const main: ArmScope = {
    parameters: new Proxy({}, { get: (_, name: string) => (name in given ? given[name] : evaluateArm(t.parameters[name]?.defaultValue, main)) }),
    variable: (name) => evaluateArm(t.variables[name], main),
    reference,
    context,
    functions: t.functions ?? [],
  };
  const deployment = resources(t).find((r) => r.type === 'Microsoft.Resources/deployments' && r.name === moduleName)!;
  const module = deployment.properties.template as Json;
  const scope: ArmScope = {
    parameters: new Proxy({}, { get: (_, name: string) => moduleParameter(deployment.properties.parameters[name], main) }),
    variable: (name) => deep(module.variables?.[name], scope),
    reference,
    context,
    functions: module.functions ?? [],
  };
  return { module: { ...module, condition: evaluateArm(deployment.condition ?? true, main) }, scope, main };
}
