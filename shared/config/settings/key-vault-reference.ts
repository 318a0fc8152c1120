import type { Env } from './define.js';

/** `@Microsoft.KeyVault(SecretUri=…)` or `@Microsoft.KeyVault(VaultName=…;SecretName=…)`, as App Service reads it. */
const KEY_VAULT_REFERENCE = /^\s*@Microsoft\.KeyVault\(/i;

/**
 * One problem line for each of `names` whose value is a Key Vault reference still in its text: App Service
 * hands the app a reference it could not resolve as the reference itself, so such a value means the secret
 * never came. The line names the setting and what to check, never the reference (it names the vault).
 */
export function unresolvedKeyVaultReferences(env: Env, names: readonly string[]): { name: string; problem: string }[] {
  return names
    .filter((name) => KEY_VAULT_REFERENCE.test(env[name] ?? ''))
    .map((name) => ({
      name,
      problem: `${name} is a Key Vault reference that App Service could not resolve (the app was given the reference's text, not the secret). Check that the secret exists, that the site's keyVaultReferenceIdentity has Key Vault Secrets User on the vault, and that the vault is not network-restricted (Flex Consumption cannot resolve references to one).`,
    }));
}
