import { describe, expect, it } from 'vitest';
import { parseKeyVaultReference, resolveKeyVaultReferences, type KeyVaultReference } from '../../dev/local-host/key-vault-references.js';

describe('Key Vault references in app settings, as App Service reads them', () => {
  it('reads both forms, with or without a version, in any case', () => {
    expect(parseKeyVaultReference('@Microsoft.KeyVault(SecretUri=https://relay-kv.vault.azure.net/secrets/client-state/)')).toEqual({
      vaultUrl: 'https://relay-kv.vault.azure.net',
      secretName: 'client-state',
    });
    expect(parseKeyVaultReference(' @microsoft.keyvault(SecretUri=https://relay-kv.vault.azure.net/secrets/client-state/ec96f02080254f109c51a1f14cdb1931) ')).toEqual({
      vaultUrl: 'https://relay-kv.vault.azure.net',
      secretName: 'client-state',
      version: 'ec96f02080254f109c51a1f14cdb1931',
    });
    expect(parseKeyVaultReference('@Microsoft.KeyVault(VaultName=relay-kv; SecretName=notification-url; SecretVersion=abc)')).toEqual({
      vaultUrl: 'https://relay-kv.vault.azure.net',
      secretName: 'notification-url',
      version: 'abc',
    });
  });

  it('takes neither a plain value nor a malformed reference for one', () => {
    for (const value of [
      'https://relay-kv.vault.azure.net/secrets/x',
      '@Microsoft.KeyVault(SecretUri=http://relay-kv.vault.azure.net/secrets/x)',
      '@Microsoft.KeyVault(SecretUri=https://relay-kv.vault.azure.net/keys/x)',
      '@Microsoft.KeyVault(VaultName=relay-kv)',
      '@Microsoft.KeyVault(SecretUri=not a url)',
    ])
      expect(parseKeyVaultReference(value), value).toBeUndefined();
  });

  it('resolves what it can read and leaves the rest as text, saying why without the value', async () => {
    const secrets: Record<string, string> = { 'client-state': 'the-state' };
    const read = async (r: KeyVaultReference) => {
      if (r.secretName === 'offline') throw Object.assign(new Error('getaddrinfo ENOTFOUND relay-kv.vault.azure.net'), { code: 'ENOTFOUND' });
      if (r.secretName === 'forbidden') throw Object.assign(new Error('Caller is not authorized'), { statusCode: 403, code: 'Forbidden' });
      const value = secrets[r.secretName];
      if (value === undefined) throw Object.assign(new Error('not found'), { statusCode: 404, code: 'SecretNotFound' });
      return value;
    };
    const forbidden = '@Microsoft.KeyVault(VaultName=relay-kv;SecretName=forbidden)';
    const malformed = '@Microsoft.KeyVault(VaultName=relay-kv)';
    const out = await resolveKeyVaultReferences(
      {
        GRAPH_CLIENT_STATE: '@Microsoft.KeyVault(VaultName=relay-kv;SecretName=client-state)',
        GRAPH_NOTIFICATION_URL: forbidden,
        OTHER: malformed,
        PLAIN: 'plain',
        MISSING: '@Microsoft.KeyVault(VaultName=relay-kv;SecretName=gone)',
        OFFLINE: '@Microsoft.KeyVault(VaultName=relay-kv;SecretName=offline)',
      },
      read,
    );
    expect(out.settings).toEqual({
      GRAPH_CLIENT_STATE: 'the-state',
      GRAPH_NOTIFICATION_URL: forbidden,
      OTHER: malformed,
      PLAIN: 'plain',
      MISSING: '@Microsoft.KeyVault(VaultName=relay-kv;SecretName=gone)',
      OFFLINE: '@Microsoft.KeyVault(VaultName=relay-kv;SecretName=offline)',
    });
    expect(out.resolved).toEqual(['GRAPH_CLIENT_STATE']);
    expect(out.unresolved).toEqual([
      { setting: 'GRAPH_NOTIFICATION_URL', reason: 'the vault answered 403 Forbidden' },
      { setting: 'MISSING', reason: 'the vault answered 404 SecretNotFound' },
      { setting: 'OFFLINE', reason: 'the vault could not be read (ENOTFOUND)' },
      { setting: 'OTHER', reason: 'the reference is malformed' },
    ]);
    expect(JSON.stringify(out.unresolved)).not.toContain('relay-kv');
  });
});
