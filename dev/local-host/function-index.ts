import { isFunctionDisabled } from './app-settings.js';
import { FunctionRegistry, triggerOf, type FunctionMetadata } from './core-api.js';
import type { HostLog } from './host-log.js';
import { HostConfigError } from './host-errors.js';
import { installCoreModule } from './install-core-module.js';
import { loadFunctionApp } from './load-app.js';

/**
 * A function's group on Flex Consumption, as the host names it (FunctionGroups): every HTTP function shares the
 * `http` group (and blob-triggered ones `blob`); any other function is a group of its own, `function:<name>`. A
 * Flex instance runs one group (FUNCTIONS_TARGET_GROUP, compared without regard to case; an `http` instance
 * runs the `blob` group too); the functions of other groups are indexed there but get a no-op listener.
 */
export function functionGroupOf(metadata: FunctionMetadata): string {
  const [, binding] = triggerOf(metadata);
  const type = binding.type.toLowerCase();
  if (type === 'httptrigger') return 'http';
  if (type === 'blobtrigger') return 'blob';
  return `function:${metadata.name}`;
}

/** Whether an instance targeting `targetGroup` runs a function of `group`, as the host's FunctionGroups.IsEnabled says. */
export function isGroupEnabled(targetGroup: string, group: string): boolean {
  const target = targetGroup.toLowerCase();
  return target === group.toLowerCase() || (target === 'http' && group === 'blob');
}

/** Resolves `%SETTING%` binding expressions against app settings, as the host does. */
export function resolveSettingExpressions(value: string, settings: Record<string, string>): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => {
    const v = settings[name];
    if (v === undefined) throw new HostConfigError(`The binding expression %${name}% names an app setting that is not set.`);
    return v;
  });
}

export interface FunctionIndexOptions {
  readonly appDir: string;
  readonly settings: Record<string, string>;
  /** host.json `functions`: only these are loaded; absent: all. */
  readonly functionsList?: readonly string[] | undefined;
  readonly log: HostLog;
}

/**
 * Indexes the app as the host does at start: the worker loads package.json `main`, the library registers each
 * function, and the host keeps those host.json `functions` names and no `AzureWebJobs.<name>.Disabled` turns
 * off. With FUNCTIONS_TARGET_GROUP set (a Flex instance of one group) the functions of other groups are left
 * without a listener: removed here, so that no trigger of theirs runs in this process.
 */
export async function indexFunctionApp(options: FunctionIndexOptions): Promise<FunctionRegistry> {
  const { log, settings } = options;
  const registry = new FunctionRegistry((level, message) => log.host(level === 'error' ? 'error' : 'info', 'worker.log', { message }));
  installCoreModule(registry.createModule('4.x-local'));
  await loadFunctionApp(options.appDir);
  await registry.programmingModel?.getCapabilities?.({});
  registry.lock();
  // As in Azure: host.json `functions` loads only the functions it names; `AzureWebJobs.<function>.Disabled`
  // (or `AzureWebJobs_<function>_Disabled`) set to true turns one off.
  const allowed = options.functionsList?.map((f) => f.toLowerCase());
  const targetGroup = settings.FUNCTIONS_TARGET_GROUP?.trim() || undefined;
  if (targetGroup) log.host('info', 'host.function_group_target', { group: targetGroup });
  for (const r of [...registry.registrations]) {
    const name = r.metadata.name;
    const excluded = allowed !== undefined && !allowed.includes(name.toLowerCase());
    const otherGroup = targetGroup !== undefined && !isGroupEnabled(targetGroup, functionGroupOf(r.metadata));
    if (excluded || otherGroup || isFunctionDisabled(settings, name)) {
      registry.registrations.splice(registry.registrations.indexOf(r), 1);
      log.host('info', excluded ? 'host.function_not_in_functions_list' : otherGroup ? 'host.function_not_in_target_group' : 'host.function_disabled', { function: name });
    }
  }
  return registry;
}

/** What the scale controller knows of one function: its group and what wakes it. */
export interface IndexedFunction {
  readonly name: string;
  readonly group: string;
  readonly trigger: 'http' | 'queue' | 'timer' | 'other';
  /** Queue trigger: the queue (setting expressions resolved) and the connection setting's name. */
  readonly queueName?: string;
  readonly connection?: string;
  /** Timer trigger: the NCRONTAB schedule (resolved) and runOnStartup. */
  readonly schedule?: string;
  readonly runOnStartup?: boolean;
}

/** The indexed functions as the platform's scale controller sees them (the host syncs its triggers to it in Azure). */
export function describeFunctions(registry: FunctionRegistry, settings: Record<string, string>): IndexedFunction[] {
  return registry.registrations.map((r) => {
    const [, binding] = triggerOf(r.metadata);
    const type = binding.type.toLowerCase();
    const base = { name: r.metadata.name, group: functionGroupOf(r.metadata) };
    if (type === 'httptrigger') return { ...base, trigger: 'http' as const };
    if (type === 'queuetrigger') {
      return {
        ...base,
        trigger: 'queue' as const,
        queueName: resolveSettingExpressions(String(binding.queueName), settings),
        connection: (binding.connection as string | undefined) || 'AzureWebJobsStorage',
      };
    }
    if (type === 'timertrigger') return { ...base, trigger: 'timer' as const, schedule: resolveSettingExpressions(String(binding.schedule), settings), runOnStartup: binding.runOnStartup === true };
    return { ...base, trigger: 'other' as const };
  });
}
