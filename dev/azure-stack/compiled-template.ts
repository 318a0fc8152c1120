import { readFileSync } from 'node:fs';
import { evaluateArm, type ArmScope, type UserFunctionNamespace } from './arm-expression.js';
import { builtInRoleName } from './built-in-roles.js';
import { CompiledTemplateError } from './compiled-template-error.js';

/** The parts of a compiled (languageVersion 2.0) ARM template the stack reads. */
interface ArmTemplate {
  readonly parameters?: Record<string, ParameterDeclaration>;
  readonly variables?: Record<string, unknown> & { readonly copy?: readonly CopyVariable[] };
  readonly functions?: readonly UserFunctionNamespace[];
  readonly resources?: Record<string, ArmResource> | readonly ArmResource[];
}
interface ParameterDeclaration {
  readonly defaultValue?: unknown;
  readonly allowedValues?: readonly unknown[];
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minValue?: number;
  readonly maxValue?: number;
}
interface CopyVariable {
  readonly name: string;
  readonly count: unknown;
  readonly input: unknown;
}
interface ArmResource {
  readonly type?: string;
  readonly name?: unknown;
  readonly properties?: {
    readonly parameters?: Record<string, { readonly value: unknown }>;
    /** A module's own template (its resources a list or, in languageVersion 2.0, by symbolic name). */
    readonly template?: ArmTemplate;
    readonly [property: string]: unknown;
  };
}

/** The Azure subscription the local deployment pretends to be in. */
const LOCAL_SUBSCRIPTION = '00000000-0000-4000-8000-00000000a2e0';

/** What the stand-ins of the Azure-shaped stack report where Azure's resources would (`reference(...)` in the template). */
export interface DeployedStandIns {
  readonly tenantId: string;
  /** Entra's login endpoint as `environment().authentication.loginEndpoint` gives it (with its trailing slash). */
  readonly loginEndpoint: string;
  readonly identity: { readonly clientId: string; readonly principalId: string };
  readonly storage: { readonly name: string; readonly blobEndpoint: string; readonly queueEndpoint: string; readonly tableEndpoint: string };
  readonly monitoring: { readonly appInsightsName: string; readonly appInsightsConnectionString: string };
  /** The vault's URI as Azure gives it (with its trailing slash). */
  readonly vault: { readonly vaultUri: string };
}

/** A role the template assigns, by the built-in role's name. */
export interface TemplateRoleAssignment {
  readonly scope: string;
  readonly role: string;
  readonly principalId: string;
}

/**
 * infra/main.bicep as the real Bicep CLI compiled it (`npm run infra:check` writes .local/infra/main.json), read
 * the way Azure Resource Manager would deploy it for given parameters: the app settings the function app gets,
 * the role assignments, the queues, containers and tables. `reference()` answers with the stand-ins, so each
 * setting is exactly the template's expression with Azure's endpoints replaced by local ones; a setting the
 * Bicep forgets, misnames or mis-shapes is forgotten, misnamed or mis-shaped here too.
 */
export class CompiledTemplate {
  readonly #template: ArmTemplate;
  readonly #scope: ArmScope;

  constructor(template: ArmTemplate, parameters: Readonly<Record<string, unknown>>, deployed: DeployedStandIns) {
    this.#template = template;
    const declared = template.parameters ?? {};
    for (const name of Object.keys(parameters)) if (!(name in declared)) throw new CompiledTemplateError(`The template has no parameter ${name}.`);
    const symbolic = this.#resources();
    const reference = (name: string): unknown => {
      const resource = symbolic[name];
      if (!resource) throw new CompiledTemplateError(`reference('${name}'): the template has no such resource.`);
      if (resource.type === 'Microsoft.Resources/deployments') {
        const outputs = (deployed as unknown as Record<string, Record<string, unknown>>)[name];
        if (!outputs) throw new CompiledTemplateError(`reference('${name}'): the stack stands in for no module ${name}.`);
        return { outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { value: v }])) };
      }
      if (resource.type === 'Microsoft.ManagedIdentity/userAssignedIdentities') return { ...deployed.identity, tenantId: deployed.tenantId };
      if (resource.type === 'Microsoft.KeyVault/vaults') return deployed.vault;
      if (resource.type === 'Microsoft.KeyVault/vaults/secrets') return { secretUri: `${deployed.vault.vaultUri}secrets/${secretNameOf(resource)}` };
      throw new CompiledTemplateError(`reference('${name}'): the stack stands in for no ${String(resource.type)}.`);
    };
    const copies = new Map<string, CopyVariable>((template.variables?.copy ?? []).map((c) => [c.name, c]));
    const scope: ArmScope = {
      parameters: new Proxy(
        {},
        {
          get: (_, name: string) => checkedParameter(name, declared[name], name in parameters ? parameters[name] : evaluateDeep(declared[name]?.defaultValue, scope)),
        },
      ),
      variable: (name) => {
        const copy = copies.get(name);
        if (!copy) return evaluateDeep(template.variables?.[name], scope);
        const count = Number(evaluateArm(copy.count, scope));
        return Array.from({ length: count }, (_, i) => evaluateArm(copy.input, { ...scope, copyIndex: () => i }));
      },
      reference,
      context: {
        tenant: { tenantId: deployed.tenantId },
        environment: { name: 'AzureCloud', authentication: { loginEndpoint: deployed.loginEndpoint } },
        subscription: { id: `/subscriptions/${LOCAL_SUBSCRIPTION}`, subscriptionId: LOCAL_SUBSCRIPTION, tenantId: deployed.tenantId },
        resourceGroup: { id: `/subscriptions/${LOCAL_SUBSCRIPTION}/resourceGroups/local`, name: 'local', location: 'local' },
      },
      functions: template.functions ?? [],
    };
    this.#scope = scope;
    // As ARM does before it deploys anything: every parameter present, allowed and within its bounds.
    for (const name of Object.keys(declared)) void scope.parameters[name];
  }

  /** Reads a compiled template (ARM JSON) from a file. */
  static read(path: string, parameters: Readonly<Record<string, unknown>>, deployed: DeployedStandIns): CompiledTemplate {
    let json: ArmTemplate;
    try {
      json = JSON.parse(readFileSync(path, 'utf8')) as ArmTemplate;
    } catch (e) {
      throw new CompiledTemplateError(`Cannot read the compiled template ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): run npm run infra:check.`);
    }
    return new CompiledTemplate(json, parameters, deployed);
  }

  /** Resources by symbolic name (languageVersion 2.0 templates keep them in an object). */
  #resources(): Record<string, ArmResource> {
    const r = this.#template.resources;
    if (!r || Array.isArray(r)) throw new CompiledTemplateError('The template is not a languageVersion 2.0 template with symbolic resource names.');
    return r as Record<string, ArmResource>;
  }

  #module(name: string): ArmResource {
    const module = this.#resources()[name];
    if (module?.type !== 'Microsoft.Resources/deployments') throw new CompiledTemplateError(`The template has no module ${name}.`);
    return module;
  }

  #moduleParameter(module: string, parameter: string): unknown {
    const value = this.#module(module).properties?.parameters?.[parameter];
    if (!value) throw new CompiledTemplateError(`Module ${module} is given no parameter ${parameter}.`);
    return evaluateArm(value.value, this.#scope);
  }

  /** The function app's app settings (the function-app module's `appSettings`), each a string as App Service keeps it. */
  appSettings(): Record<string, string> {
    const settings = this.#moduleParameter('functionApp', 'appSettings') as Record<string, unknown>;
    const notText = Object.entries(settings).filter(([, v]) => typeof v !== 'string');
    if (notText.length > 0) throw new CompiledTemplateError(`App settings must be strings; the template gives ${notText.map(([k]) => k).join(', ')} another type.`);
    return settings as Record<string, string>;
  }

  /** The rbac module's role assignments, each role by its built-in name (an id Azure does not know fails here). */
  roleAssignments(): TemplateRoleAssignment[] {
    const assignments = this.#moduleParameter('rbac', 'assignments') as { scope: string; roleDefinitionId: string; principalId: string }[];
    return assignments.map((a) => ({ scope: a.scope, role: builtInRoleName(a.roleDefinitionId), principalId: a.principalId }));
  }

  /**
   * The identity the site reads Key Vault references with, as the function-app module sets the site's
   * `keyVaultReferenceIdentity` (a user-assigned identity's resource id); undefined when it sets none, which
   * App Service reads as the system-assigned identity.
   */
  keyVaultReferenceIdentity(): string | undefined {
    const nested = this.#module('functionApp').properties?.template;
    const resources = Array.isArray(nested?.resources) ? (nested.resources as ArmResource[]) : Object.values(nested?.resources ?? {});
    const site = resources.find((r) => r.type === 'Microsoft.Web/sites');
    if (!nested || !site) throw new CompiledTemplateError('The function-app module has no Microsoft.Web/sites resource.');
    const inModule: ArmScope = {
      ...this.#scope,
      parameters: new Proxy({}, { get: (_, name: string) => this.#moduleParameter('functionApp', name) }),
      variable: (name) => evaluateDeep(nested.variables?.[name], inModule),
    };
    const value = evaluateArm(site.properties?.keyVaultReferenceIdentity, inModule);
    if (value === undefined || value === null || value === 'SystemAssigned') return undefined;
    if (typeof value !== 'string') throw new CompiledTemplateError("The site's keyVaultReferenceIdentity is not a resource id.");
    return value;
  }

  /** The user-assigned identity's resource id, as the template gives it to the function app. */
  identityResourceId(): string {
    return String(this.#moduleParameter('functionApp', 'identityId'));
  }

  /** The queues, blob containers and tables the storage module creates. */
  storageResources(): { queues: string[]; containers: string[]; tables: string[] } {
    return {
      queues: this.#moduleParameter('storage', 'queues') as string[],
      containers: this.#moduleParameter('storage', 'containers') as string[],
      tables: this.#moduleParameter('storage', 'tables') as string[],
    };
  }

  /** A parameter's value for this deployment (given, or the template's default). */
  parameter(name: string): unknown {
    return this.#scope.parameters[name];
  }
}

/** A parameter's value as ARM checks it before deploying: present, allowed, within its bounds. */
function checkedParameter(name: string, declaration: ParameterDeclaration | undefined, value: unknown): unknown {
  if (!declaration) throw new CompiledTemplateError(`The template has no parameter ${name}.`);
  const refuse = (why: string) => new CompiledTemplateError(`Parameter ${name} ${why}.`);
  if (value === undefined) throw refuse('has no value and no default');
  if (declaration.allowedValues && !declaration.allowedValues.some((a) => JSON.stringify(a) === JSON.stringify(value))) throw refuse(`is ${JSON.stringify(value)}, not one of its allowed values`);
  const length = typeof value === 'string' || Array.isArray(value) ? value.length : undefined;
  if (length !== undefined && declaration.minLength !== undefined && length < declaration.minLength) throw refuse(`is shorter than ${declaration.minLength}`);
  if (length !== undefined && declaration.maxLength !== undefined && length > declaration.maxLength) throw refuse(`is longer than ${declaration.maxLength}`);
  if (typeof value === 'number' && declaration.minValue !== undefined && value < declaration.minValue) throw refuse(`is below ${declaration.minValue}`);
  if (typeof value === 'number' && declaration.maxValue !== undefined && value > declaration.maxValue) throw refuse(`is above ${declaration.maxValue}`);
  return value;
}

/** A value as ARM evaluates a variable's: every expression in it, at any depth of its objects and arrays. */
function evaluateDeep(value: unknown, scope: ArmScope): unknown {
  if (Array.isArray(value)) return value.map((v) => evaluateDeep(v, scope));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluateDeep(v, scope)]));
  return evaluateArm(value, scope);
}

/** A Key Vault secret resource's own name: the last segment of its `<vault>/<secret>` name. */
function secretNameOf(resource: ArmResource): string {
  const name = String(resource.name);
  const literal = /'([^']+)'\)\]$/.exec(name)?.[1] ?? /\/([^/]+)$/.exec(name)?.[1];
  if (!literal) throw new CompiledTemplateError(`Cannot read the secret name of ${name}.`);
  return literal;
}
