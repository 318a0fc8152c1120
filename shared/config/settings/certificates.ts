import { settingsArea } from './define.js';
import { oneOf, optionalHttpsUrl, optionalText, rule, SettingProblem, text } from './validators.js';

export interface CertificateSettings {
  readonly certificates: { readonly kind: 'keyvault'; readonly vaultUrl: string; readonly certificateName: string; readonly clientId?: string } | { readonly kind: 'local'; readonly folder: string };
  /** The user-assigned managed identity for Key Vault (and Graph with GRAPH_AUTH_MODE=managedidentity). */
  readonly azureClientId?: string;
}

const CERTIFICATE_SETTINGS = {
  CERTIFICATE_STORE: {
    default: 'keyvault',
    localDefault: 'local',
    description: 'Where the encryption certificates are: `keyvault` (Azure Key Vault) or `local` (PEM files in LOCAL_CERTIFICATE_DIR).',
    read: oneOf(['keyvault', 'local'] as const, (store: string, name: string) => `${name} must be "keyvault" or "local", not "${store}".`),
  },
  KEY_VAULT_URL: {
    description: 'The vault holding the encryption certificate (`https://<vault>.vault.azure.net`); required when CERTIFICATE_STORE is `keyvault`.',
    read: optionalHttpsUrl,
  },
  KEY_VAULT_CERTIFICATE_NAME: {
    default: 'graph-notifications',
    description: 'The Key Vault certificate that encrypts notifications; every version still in the vault decrypts.',
    read: rule((v: string, name: string) => (/^[0-9a-zA-Z-]{1,127}$/.test(v) ? v : new SettingProblem(`${name} must be a Key Vault certificate name (letters, digits, hyphens).`))),
  },
  AZURE_CLIENT_ID: {
    description: 'Client id of the user-assigned managed identity used for Key Vault (read by DefaultAzureCredential).',
    read: optionalText,
  },
  LOCAL_CERTIFICATE_DIR: {
    default: '.local/certificates',
    description: 'Folder of `<certificate id>.pem` files for CERTIFICATE_STORE=local; a self-signed certificate is created when it has none.',
    read: text,
  },
};

/** The certificates that encrypt notifications' resource data: Key Vault, or PEM files locally. */
export const certificateSettings = settingsArea(CERTIFICATE_SETTINGS, {
  check: (v, report) => {
    if (v.CERTIFICATE_STORE === 'keyvault' && v.KEY_VAULT_URL === undefined) {
      report('KEY_VAULT_URL is missing: CERTIFICATE_STORE is keyvault, so name the vault (https://<vault>.vault.azure.net).');
    }
  },
  slice: (v): CertificateSettings => {
    const clientId = v.AZURE_CLIENT_ID;
    return {
      certificates:
        v.CERTIFICATE_STORE === 'keyvault'
          ? { kind: 'keyvault', vaultUrl: (v.KEY_VAULT_URL?.href ?? '').replace(/\/$/, ''), certificateName: v.KEY_VAULT_CERTIFICATE_NAME, ...(clientId ? { clientId } : {}) }
          : { kind: 'local', folder: v.LOCAL_CERTIFICATE_DIR },
      ...(clientId ? { azureClientId: clientId } : {}),
    };
  },
});
