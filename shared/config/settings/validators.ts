import { z } from 'zod';
import type { RawValue, SettingSchema } from './define.js';

/** What a setting's reader returns when the value is wrong: one line per mistake, each naming the setting. */
export class SettingProblem {
  readonly messages: readonly string[];
  constructor(...messages: string[]) {
    this.messages = messages;
  }
}

/**
 * A setting read by `parse` (its value, '' when unset, and its name): the value it returns, or the problems.
 * The zod schema every validator below is built on.
 */
export function rule<T>(parse: (value: string, name: string) => T | SettingProblem): SettingSchema<T> {
  return (name) =>
    z
      .string()
      .optional()
      .transform((v, ctx) => {
        const out = parse(v ?? '', name);
        if (!(out instanceof SettingProblem)) return out;
        for (const message of out.messages) ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      });
}

/** Any text, or undefined when unset (an optional file, a secret checked by its area). */
export const optionalText: SettingSchema<RawValue> = () => z.string().optional();

/** Any text; '' when unset. */
export const text = rule((v) => v);

const STORAGE_NAME = /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** An Azure Storage queue name. */
export const queueName = rule((v: string, name: string) =>
  STORAGE_NAME.test(v) ? v : new SettingProblem(`${name} "${v}" is not a valid queue name (3-63 lowercase letters, digits and single hyphens).`),
);

/** An Azure Storage blob container name. */
export const containerName = rule((v: string, name: string) =>
  STORAGE_NAME.test(v) ? v : new SettingProblem(`${name} "${v}" is not a valid container name (3-63 lowercase letters, digits and single hyphens).`),
);

/** An Azure Storage table name. */
export const tableName = rule((v: string, name: string) =>
  TABLE_NAME.test(v) ? v : new SettingProblem(`${name} "${v}" is not a valid table name (3-63 letters and digits, starting with a letter).`),
);

/** A whole number from `min` to `max`; `also` may refuse some of them (its message, or undefined). */
export const wholeNumber = (min: number, max: number, also?: (n: number, name: string) => string | undefined) =>
  rule((v: string, name: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) return new SettingProblem(`${name} must be a whole number from ${min} to ${max}, not "${v}".`);
    const refused = also?.(n, name);
    return refused === undefined ? n : new SettingProblem(refused);
  });

/** The problem with `raw` as an https URL (http only on loopback), or the URL. */
export function httpsUrlOf(raw: string, name: string): URL | SettingProblem {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return new SettingProblem(`${name} is not a URL: "${raw}".`);
  }
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  return url.protocol === 'https:' || loopbackHttp ? url : new SettingProblem(`${name} must be an https URL (http is allowed only on loopback).`);
}

/** An https URL (http only on loopback). */
export const httpsUrl = rule(httpsUrlOf);

/** An https URL when set; undefined when unset (its area says when it is required). */
export const optionalHttpsUrl = rule((v: string, name: string) => (v === '' ? undefined : httpsUrlOf(v, name)));

/** `true` or `false`, in any case. */
export const trueOrFalse = rule((v: string, name: string) => {
  const lower = v.toLowerCase();
  return lower === 'true' || lower === 'false' ? lower === 'true' : new SettingProblem(`${name} must be true or false.`);
});

/** A comma-separated list, blanks dropped. */
export function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** One of `choices` (compared in lower case). */
export const oneOf = <C extends string>(choices: readonly C[], problem: (value: string, name: string) => string) =>
  rule((v: string, name: string) => {
    const lower = v.toLowerCase();
    return (choices as readonly string[]).includes(lower) ? (lower as C) : new SettingProblem(problem(lower, name));
  });
