import { z } from 'zod';

/**
 * One setting as README.md's configuration table and local.settings.json.example document it (a test keeps
 * them in step). `localDefault` applies only in the Development environment
 * (`AZURE_FUNCTIONS_ENVIRONMENT=Development`, which Core Tools and our local host always set); `default`
 * applies everywhere. A setting with neither is required in Azure unless its area says otherwise.
 */
export interface SettingDefinition {
  readonly name: string;
  readonly default?: string;
  readonly localDefault?: string;
  readonly description: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** A setting's value after defaults: a string, or undefined when unset and without a default. */
export type RawValue = string | undefined;

/** Reads one setting's value: the schema of its (trimmed, defaulted) text, given the setting's name for messages. */
export type SettingSchema<T> = (name: string) => z.ZodType<T, RawValue>;

/** A setting of an area: its documentation and how its value is read. */
export interface SettingSpec<T> extends Omit<SettingDefinition, 'name'> {
  readonly read: SettingSchema<T>;
}

/** The values of an area's settings, as their readers return them. */
type Values<S> = { readonly [K in keyof S]: S[K] extends { read: SettingSchema<infer T> } ? T : never };

type Report = (problem: string) => void;

export interface SettingsAreaOptions<S, T> {
  /**
   * Rules across settings of the area (one needs another). Runs even when a setting failed its own check;
   * such a setting's value is then not to be relied on.
   */
  readonly check?: (values: NoInfer<Values<S>>, report: Report) => void;
  /** The area's slice of Settings, from valid values (may still report a problem). */
  readonly slice: (values: NoInfer<Values<S>>, report: Report) => T;
}

export interface SettingsArea<T> {
  readonly definitions: readonly SettingDefinition[];
  /** The zod schema of the area: setting values in, the area's slice out; each issue one line naming its setting. */
  readonly schema: z.ZodType<T, Record<string, RawValue>>;
}

export function isDevelopment(env: Env): boolean {
  return (env.AZURE_FUNCTIONS_ENVIRONMENT ?? '').toLowerCase() === 'development';
}

/** The value a setting has in this environment: its set value (trimmed), else its default for this environment. */
export function valueOf(env: Env, definition: SettingDefinition): RawValue {
  const raw = env[definition.name];
  if (raw !== undefined && raw.trim() !== '') return raw.trim();
  return (isDevelopment(env) ? definition.localDefault : undefined) ?? definition.default;
}

const always = () => true;

/**
 * An area from its settings by name (the one place a setting is defined, documented and validated) and how
 * they make its slice. Give `settings` as a const declared apart: as an argument written in place, it would
 * be typed from this signature, and an inline `rule(...)` would infer `unknown` for its value.
 */
export function settingsArea<S extends Record<string, SettingSpec<unknown>>, T>(settings: S, options: SettingsAreaOptions<S, T>): SettingsArea<T> {
  const entries = Object.entries(settings);
  const definitions = entries.map(([name, { read: _read, ...doc }]) => ({ name, ...doc }));
  const shape = Object.fromEntries(entries.map(([name, spec]) => [name, spec.read(name)]));
  const reporter = (ctx: z.RefinementCtx) => (message: string) => ctx.addIssue({ code: 'custom', message });
  const schema = z
    .object(shape)
    .superRefine((values, ctx) => options.check?.(values as Values<S>, reporter(ctx)), { when: always })
    .transform((values, ctx) => options.slice(values as Values<S>, reporter(ctx)));
  return { definitions, schema };
}

/** Reads an area from the environment: its slice, or one problem line per bad setting. */
export function readArea<T>(area: SettingsArea<T>, env: Env): { ok: true; slice: T } | { ok: false; problems: string[] } {
  const values = Object.fromEntries(area.definitions.map((d) => [d.name, valueOf(env, d)]));
  const parsed = area.schema.safeParse(values);
  return parsed.success ? { ok: true, slice: parsed.data } : { ok: false, problems: parsed.error.issues.map((i) => i.message) };
}
