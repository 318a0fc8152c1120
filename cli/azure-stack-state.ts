import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a running Azure-shaped stack leaves for its operator's tools (`<app>/.local/azure-stack/stack.json`, this user only). */
export interface AzureStackState {
  readonly hostUrl: string;
  /** The host's default function key, as `az functionapp keys list` shows it. */
  readonly functionKey: string;
  /** The site's app settings as the app sees them: Key Vault references read (local secrets). */
  readonly siteSettings: Readonly<Record<string, string>>;
  /** The platform's variables of the site (IDENTITY_ENDPOINT, IDENTITY_HEADER). */
  readonly platformEnv: Readonly<Record<string, string>>;
  /** The operator's shell for the CLIs (docs/deploy.md step 9): the site's settings, the operator's own identity. */
  readonly operatorEnv: Readonly<Record<string, string>>;
  /** The certificate file a process trusts the stand-ins by (NODE_EXTRA_CA_CERTS). */
  readonly trust: string;
}

/** Where the stack started from `appDir` keeps its state. */
export function azureStackStateFile(appDir: string): string {
  return join(appDir, '.local', 'azure-stack', 'stack.json');
}

/** The running stack's state, or undefined when none was started from `appDir`. */
export function readAzureStackState(appDir: string): AzureStackState | undefined {
  const file = azureStackStateFile(appDir);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as AzureStackState) : undefined;
}
