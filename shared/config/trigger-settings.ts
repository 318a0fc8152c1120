import { settingValue } from './settings.js';

/**
 * The app settings the Functions host resolves itself: queue triggers name their queues and the reconciler's
 * timer its schedule as `%NAME%` binding expressions, which the host replaces with the app setting's value when
 * it indexes the functions. So no function file reads the app's settings when the host loads it, and the host
 * and the app read one value. The host cannot use the app's defaults: where one of these is not set, the host
 * refuses the function that names it. infra/ sets each of them, local.settings.json.example lists them, and
 * `npm start` gives the app's defaults to those left unset (a test holds the first two to this list).
 */
export const TRIGGER_SETTINGS = ['NOTIFICATIONS_QUEUE', 'LIFECYCLE_QUEUE', 'BACKFILL_QUEUE', 'RECONCILE_SCHEDULE'] as const;

export type TriggerSetting = (typeof TRIGGER_SETTINGS)[number];

/** The binding expression the host resolves to the setting's value: `%NAME%`. */
export function bindingExpression(name: TriggerSetting): string {
  return `%${name}%`;
}

/** Each trigger setting's default, for a local run to give the host where nothing sets it. */
export function triggerSettingDefaults(): Record<TriggerSetting, string> {
  return Object.fromEntries(TRIGGER_SETTINGS.map((name) => [name, settingValue({}, name) ?? ''])) as Record<TriggerSetting, string>;
}
