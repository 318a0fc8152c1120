import { settingsArea } from './define.js';
import { httpsUrl, oneOf, optionalHttpsUrl, optionalText } from './validators.js';

export interface GraphSettings {
  readonly graphBaseUrl: URL;
  readonly graphAuth:
    | { readonly mode: 'managedidentity' | 'federated' | 'default' | 'simulator' }
    | { readonly mode: 'clientsecret'; readonly secret: string }
    | { readonly mode: 'certificate'; readonly certificatePath: string };
  /** Entra ID's authority host when not the public cloud's (AZURE_AUTHORITY_HOST, which @azure/identity reads itself). */
  readonly authorityHost?: URL;
}

const AUTH_MODES = ['managedidentity', 'federated', 'clientsecret', 'certificate', 'default', 'simulator'] as const;

const GRAPH_SETTINGS = {
  GRAPH_BASE_URL: {
    default: 'https://graph.microsoft.com',
    description: 'Microsoft Graph, for the subscriptions the app manages (`npm start` points it at the local Graph simulator).',
    read: httpsUrl,
  },
  GRAPH_AUTH_MODE: {
    default: 'managedidentity',
    localDefault: 'simulator',
    description:
      'How the app gets Graph tokens: `managedidentity` (AZURE_CLIENT_ID for a user-assigned one; its own tenant only), `federated` (the Entra app GRAPH_APP_ID, authenticated by a federated credential that trusts the managed identity; any tenant that consented the app), `clientsecret` (GRAPH_CLIENT_SECRET), `certificate` (GRAPH_CLIENT_CERTIFICATE_PATH), `default` (DefaultAzureCredential) or `simulator` (an unsigned token the local Graph simulator reads).',
    read: oneOf(AUTH_MODES, (mode: string, name: string) => `${name} must be managedidentity, federated, clientsecret, certificate, default or simulator, not "${mode}".`),
  },
  GRAPH_CLIENT_SECRET: {
    description: 'Client secret of the Entra app, for GRAPH_AUTH_MODE=clientsecret (a Key Vault reference in Azure).',
    read: optionalText,
  },
  GRAPH_CLIENT_CERTIFICATE_PATH: {
    description: 'PEM file (certificate and private key) of the Entra app, for GRAPH_AUTH_MODE=certificate.',
    read: optionalText,
  },
  AZURE_AUTHORITY_HOST: {
    description:
      "Entra ID's authority host for `clientsecret`, `certificate` and `federated` (read by @azure/identity): a sovereign cloud's (`https://login.microsoftonline.us`), or the Azure-shaped stack's token endpoint on loopback. Unset: the public cloud's.",
    read: optionalHttpsUrl,
  },
};

/** Calling Microsoft Graph (subscriptions, hydration, backfill): where it is and how the app gets its tokens. */
export const graphSettings = settingsArea(GRAPH_SETTINGS, {
  check: (v, report) => {
    if (v.GRAPH_AUTH_MODE === 'clientsecret' && !v.GRAPH_CLIENT_SECRET) report('GRAPH_CLIENT_SECRET is missing: GRAPH_AUTH_MODE is clientsecret.');
    if (v.GRAPH_AUTH_MODE === 'certificate' && !v.GRAPH_CLIENT_CERTIFICATE_PATH) report('GRAPH_CLIENT_CERTIFICATE_PATH is missing: GRAPH_AUTH_MODE is certificate.');
  },
  slice: (v): GraphSettings => ({
    graphBaseUrl: v.GRAPH_BASE_URL,
    graphAuth:
      v.GRAPH_AUTH_MODE === 'clientsecret'
        ? { mode: 'clientsecret', secret: v.GRAPH_CLIENT_SECRET ?? '' }
        : v.GRAPH_AUTH_MODE === 'certificate'
          ? { mode: 'certificate', certificatePath: v.GRAPH_CLIENT_CERTIFICATE_PATH ?? '' }
          : { mode: v.GRAPH_AUTH_MODE },
    ...(v.AZURE_AUTHORITY_HOST ? { authorityHost: v.AZURE_AUTHORITY_HOST } : {}),
  }),
});
