import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveKeyVaultReferences } from '../local-host/key-vault-references.js';
import { startFlexStack, type FlexStack } from '../flex/flex-stack.js';
import { siteSecretReader, type AzureSite } from './site-host.js';

const START_LOCAL = fileURLToPath(new URL('../start-local.js', import.meta.url));

export interface SiteTopologyOptions {
  readonly appDir: string;
  readonly port: number;
  /** A folder of this user's only, for the site as its instances get it (resolved secrets inside). */
  readonly workDir: string;
  readonly routeInstances?: number;
  readonly idleMs?: number;
  readonly write?: (line: string) => void;
}

/**
 * The site on Flex's topology (docs/local-host.md "Flex topology"): App Service reads the site's Key Vault
 * references once, at its start, and keeps them (24 h), so every instance started later gets the values read
 * then, even while the vault is down; each instance is `start-local --site` of one group. The scale controller
 * reads the queues with the site's identity (the platform's variables are set in this process).
 */
export async function startSiteTopology(site: AzureSite, options: SiteTopologyOptions): Promise<FlexStack> {
  Object.assign(process.env, site.platformEnv);
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const log = (level: string, event: string, fields: Record<string, unknown>) => write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }));
  const references = await resolveKeyVaultReferences(site.appSettings, siteSecretReader(site));
  if (references.resolved.length > 0) log('info', 'host.key_vault_references_resolved', { settings: references.resolved });
  for (const u of references.unresolved) log('warn', 'host.key_vault_reference_unresolved', { setting: u.setting, reason: u.reason });
  // One name, written again at each start: a topology killed (no stop) leaves no second copy of its secrets.
  const siteFile = join(options.workDir, 'site-instances.json');
  writeFileSync(siteFile, JSON.stringify({ ...site, appSettings: references.settings } satisfies AzureSite), { mode: 0o600 });
  chmodSync(siteFile, 0o600);
  const appDir = resolve(options.appDir);
  try {
    const stack = await startFlexStack({
      appDir,
      port: options.port,
      settings: { ...references.settings, ...site.platformEnv },
      host: { args: [START_LOCAL, '--app', appDir, '--site', siteFile], env: process.env, cwd: appDir },
      ...(options.routeInstances !== undefined ? { routeInstances: options.routeInstances } : {}),
      ...(options.idleMs !== undefined ? { idleMs: options.idleMs } : {}),
      write,
    });
    return {
      ...stack,
      stop: async () => {
        await stack.stop();
        rmSync(siteFile, { force: true });
      },
    };
  } catch (e) {
    rmSync(siteFile, { force: true });
    throw e;
  }
}
