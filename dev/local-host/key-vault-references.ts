/**
 * App Service's Key Vault references in app settings: `@Microsoft.KeyVault(SecretUri=https://<vault>/secrets/<name>[/<version>])`
 * or `@Microsoft.KeyVault(VaultName=<vault>;SecretName=<name>[;SecretVersion=<version>])`. App Service reads
 * each with the site's identity before the app starts; one it cannot read reaches the app as its own text.
 */
export interface KeyVaultReference {
  /** The vault's URL: `https://<name>.vault.azure.net` for a VaultName. */
  readonly vaultUrl: string;
  readonly secretName: string;
  /** Absent: the current version. */
  readonly version?: string;
}

const REFERENCE = /^\s*@Microsoft\.KeyVault\((.*)\)\s*$/i;

/** The reference a setting's value holds, or undefined when it is not one (or is malformed, which App Service leaves as text too). */
export function parseKeyVaultReference(value: string): KeyVaultReference | undefined {
  const body = REFERENCE.exec(value)?.[1];
  if (body === undefined) return undefined;
  const parts = new Map(
    body
      .split(';')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => {
        const eq = p.indexOf('=');
        return [p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim()] as const;
      }),
  );
  const secretUri = parts.get('secreturi');
  if (secretUri) {
    let url: URL;
    try {
      url = new URL(secretUri);
    } catch {
      return undefined;
    }
    const [kind, name, version] = url.pathname.split('/').filter(Boolean);
    if (url.protocol !== 'https:' || kind !== 'secrets' || !name) return undefined;
    return { vaultUrl: url.origin, secretName: name, ...(version ? { version } : {}) };
  }
  const vault = parts.get('vaultname');
  const name = parts.get('secretname');
  if (!vault || !name) return undefined;
  const version = parts.get('secretversion');
  return { vaultUrl: `https://${vault}.vault.azure.net`, secretName: name, ...(version ? { version } : {}) };
}

/** Why a reference was not resolved: the vault's answer (its status and code) or the network's error. */
export interface UnresolvedReference {
  readonly setting: string;
  readonly reason: string;
}

/**
 * The settings with every Key Vault reference read through `readSecret`, as App Service resolves them at
 * start. A reference that cannot be read keeps its text (so the app, not the host, names the setting and
 * refuses to start) and is listed with the reason; its value is never in the reason.
 */
export async function resolveKeyVaultReferences(
  settings: Readonly<Record<string, string>>,
  readSecret: (reference: KeyVaultReference) => Promise<string>,
): Promise<{ settings: Record<string, string>; resolved: string[]; unresolved: UnresolvedReference[] }> {
  const out: Record<string, string> = { ...settings };
  const resolved: string[] = [];
  const unresolved: UnresolvedReference[] = [];
  await Promise.all(
    Object.entries(settings).map(async ([setting, value]) => {
      const reference = parseKeyVaultReference(value);
      if (!reference) {
        if (REFERENCE.test(value)) unresolved.push({ setting, reason: 'the reference is malformed' });
        return;
      }
      try {
        out[setting] = await readSecret(reference);
        resolved.push(setting);
      } catch (e) {
        // The vault's status and code, or the error's code (ENOTFOUND…): never its message, which can name the vault.
        const err = e as { statusCode?: number; code?: string; name?: string };
        unresolved.push({
          setting,
          reason: err.statusCode ? `the vault answered ${err.statusCode}${err.code ? ` ${err.code}` : ''}` : `the vault could not be read (${err.code ?? err.name ?? 'error'})`,
        });
      }
    }),
  );
  return { settings: out, resolved: resolved.sort(), unresolved: unresolved.sort((a, b) => a.setting.localeCompare(b.setting)) };
}
