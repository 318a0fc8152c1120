/**
 * What a process with a clean environment keeps of this one's: enough to run Node and find the user's own
 * folders, on Linux, macOS and Windows (TEMP, TMP, SystemRoot, USERPROFILE). HOME and XDG_CACHE_HOME are
 * where the loopback certificate's folder is found (dev/tls/loopback-certificate.ts). Nothing of the shell's
 * settings: an Azure site has none of its operator's.
 */
export const KEPT_ENV: readonly string[] = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', 'TEMP', 'TMP', 'SystemRoot', 'USERPROFILE', 'XDG_CACHE_HOME'];

/**
 * The environment of a process started as a site's or an operator's (the Azure-shaped stack, its site, a CLI's
 * `--azure`): the KEPT_ENV variables `from` holds, and `extra` over them. An undefined value in `extra` sets
 * nothing (`{ NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS }` passes it on only when it is set).
 */
export function cleanProcessEnv(extra: Readonly<Record<string, string | undefined>> = {}, from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of [...KEPT_ENV.map((k) => [k, from[k]] as const), ...Object.entries(extra)]) if (value !== undefined) env[name] = value;
  return env;
}
