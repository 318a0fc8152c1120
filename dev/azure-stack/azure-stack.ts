import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateClient } from '@azure/keyvault-certificates';
import { SecretClient } from '@azure/keyvault-secrets';
import { ensureClientState, ensureEncryptionCertificate, type ForbiddenRetry } from '../../cli/azure-setup/vault-preparation.js';
import { freePort } from '../azurite/azurite-process.js';
import { startIdentityStorage, type IdentityStorage } from '../azurite/identity-storage.js';
import { startEntraStandIn, type EntraStandIn } from '../entra/entra-stand-in.js';
import { isStorageRole, type StorageRole } from '../storage/storage-roles.js';
import { OPERATOR_STORAGE_ROLES, operatorEnvironment } from './operator-env.js';
import { startGraphSimulator, type GraphSimulator } from '../graph-simulator/graph-simulator.js';
import { LOCAL_SIMULATOR_OPTIONS } from '../graph-simulator/local-defaults.js';
import { isKeyVaultRole, startKeyVaultStandIn, type KeyVaultRole, type KeyVaultStandIn } from '../key-vault/key-vault-stand-in.js';
import { startIngestionStandIn, type IngestionStandIn } from '../app-insights/ingestion-stand-in.js';
import { readSiteSettings, startSiteHost, type AzureSite } from './site-host.js';
import { startSiteTopology } from './site-topology.js';
import type { HostLog } from '../local-host/host-log.js';
import { CompiledTemplate, type DeployedStandIns } from './compiled-template.js';
import { CompiledTemplateError } from './compiled-template-error.js';
import { provisionStorage } from './provision-storage.js';
import { siteIdentityCredential } from './site-identity-credential.js';

/** The Graph application permissions an admin consents to for the app (docs/deploy.md, step 4). */
export const CONSENTED_GRAPH_ROLES = [
  'Chat.Read.All',
  'ChatMember.Read.All',
  'ChannelMessage.Read.All',
  'Chat.ReadBasic.WhereInstalled',
  'Chat.Read.WhereInstalled',
  'ChatMember.Read.WhereInstalled',
  // The backfill's tenant-wide listings (GET /users, GET /teams).
  'User.Read.All',
  'Team.ReadBasic.All',
] as const;

export interface AzureStackOptions {
  /** The function app's folder (what `func azure functionapp publish` would upload). */
  readonly appDir: string;
  /** The compiled template; default `<appDir>/.local/infra/main.json` (npm run infra:check writes it). */
  readonly templateFile?: string;
  /** Template parameters beside the stack's own (environmentName, manageSubscriptions, subscriptionsFile). */
  readonly parameters?: Readonly<Record<string, unknown>>;
  /** The Functions host's port (0: any free one). */
  readonly port?: number;
  /** The URL Graph reaches the site at, in the keyed URLs the vault holds; default the host's (a proxy in front: the chaos run). */
  readonly publicUrl?: string;
  readonly simulatorPort?: number;
  /** Graph application permissions granted to the app's identity (default CONSENTED_GRAPH_ROLES). */
  readonly graphRoles?: readonly string[];
  /** Azurite's data folder; omitted: in memory. */
  readonly storageLocation?: string;
  readonly log?: HostLog;
  /**
   * The site on Flex's topology (each function group in its own processes; site-topology.ts), its instances'
   * site file in this folder; absent: the site's host in this process.
   */
  readonly flex?: { readonly workDir: string; readonly routeInstances?: number; readonly idleMs?: number };
  /** Starts Graph (default: the simulator in this process, as `npm start` runs it). */
  readonly startGraph?: (options: LocalGraphOptions) => Promise<LocalGraph>;
}

/** The simulator's options the stack sets: where, for whom, and checking the Entra stand-in's tokens. */
export interface LocalGraphOptions {
  readonly port: number;
  readonly tenantId: string;
  readonly appId: string;
  readonly verifyTokens: { readonly jwksUrl: string; readonly issuer?: string; readonly audiences?: readonly string[] };
}

/** What the stack needs of a running Graph simulator (in this process, or another: the chaos run's). */
export interface LocalGraph {
  readonly baseUrl: string;
  close(): Promise<void>;
}

const startInProcessGraph = async (o: LocalGraphOptions): Promise<GraphSimulator> => startGraphSimulator({ ...LOCAL_SIMULATOR_OPTIONS, ...o });

/** Azure as the site sees it, every service a stand-in, before the site runs: what `startSiteHost` runs the app on. */
export interface AzureStandIns {
  /** The site's URL (its port chosen before it runs: the keyed URLs in the vault name it). */
  readonly hostUrl: string;
  readonly port: number;
  /** The host's default function key (as the operator reads it with `az functionapp keys list`). */
  readonly functionKey: string;
  readonly simulator: LocalGraph;
  readonly vault: KeyVaultStandIn;
  readonly storage: IdentityStorage;
  readonly ingestion: IngestionStandIn;
  readonly identity: { readonly clientId: string; readonly principalId: string };
  readonly tenantId: string;
  /** The site: the template's app settings (references unresolved), the platform's variables, its identity. */
  readonly site: AzureSite;
  /** The settings as the site sees them, Key Vault references read (secrets included). */
  siteSettings(): Promise<Record<string, string>>;
  /** What the operator's shell holds to run the CLIs (docs/deploy.md step 9), with their own identity: from the settings siteSettings() read. */
  operatorEnv(siteSettings: Readonly<Record<string, string>>): Record<string, string>;
  stop(): Promise<void>;
}

/** A running Azure-shaped stack: the stand-ins, and the app on the local host as the site. */
export interface AzureStack extends AzureStandIns {
  /** The site: one host (faults end it, as an unhandled exception ends Azure's host), or Flex's topology, whose lost instances it replaces. */
  readonly host: { stop(): Promise<void>; readonly faulted?: Promise<Error> };
}

const MICROSOFT_GRAPH = 'https://graph.microsoft.com';

/** Azure endpoints a setting must not keep: each has a stand-in, and a setting naming one was not replaced. */
const AZURE_HOSTS = /\b(?:vault\.azure\.net|core\.windows\.net|graph\.microsoft\.com|login\.microsoftonline\.com|applicationinsights\.azure\.com|monitor\.azure\.com)\b/i;

/**
 * Starts Azure's part of the Azure-shaped local stack: Entra ID's managed identity endpoint, storage
 * reached by identity only (Azurite over HTTPS with OAuth, behind Azure's role checks), Key Vault, Application
 * Insights' ingestion and Graph, each checking tokens and the roles the compiled template assigns; the app's
 * settings are the template's, its secrets Key Vault references (the site, to run with `startSiteHost`).
 * Needs NODE_EXTRA_CA_CERTS naming the loopback certificate in this process already.
 */
export async function startAzureStandIns(options: AzureStackOptions): Promise<AzureStandIns> {
  const tenantId = randomUUID();
  const identity = { clientId: randomUUID(), principalId: randomUUID() };
  // The operator who deploys (deployerPrincipalId) and runs the CLIs (docs/deploy.md step 9), signed in with
  // an identity of their own: never the site's.
  const operator = { clientId: randomUUID(), principalId: randomUUID() };
  const templateFile = options.templateFile ?? join(options.appDir, '.local', 'infra', 'main.json');
  const parameters: Record<string, unknown> = {
    environmentName: 'local',
    manageSubscriptions: true,
    subscriptionsFile: existsSync(join(options.appDir, 'subscriptions.json')) ? 'subscriptions.json' : 'subscriptions.example.json',
    deployerPrincipalId: operator.principalId,
    ...options.parameters,
  };
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    // Role assignments depend on the identity alone: read first, so that each stand-in starts knowing its roles.
    const placeholders: DeployedStandIns = {
      tenantId,
      loginEndpoint: 'https://login.invalid/',
      identity,
      storage: { name: '', blobEndpoint: '', queueEndpoint: '', tableEndpoint: '' },
      monitoring: { appInsightsName: '', appInsightsConnectionString: '' },
      vault: { vaultUri: '' },
    };
    const planned = CompiledTemplate.read(templateFile, parameters, placeholders);
    const assignments = planned.roleAssignments();
    const identityResourceId = planned.identityResourceId();
    const rolesAt = (scope: string) => {
      const byPrincipal: Record<string, string[]> = {};
      for (const a of assignments.filter((x) => x.scope === scope)) (byPrincipal[a.principalId] ??= []).push(a.role);
      return byPrincipal;
    };

    // Graph's application permissions come from admin consent, not from the template: to the identity, or to the
    // app registration in clientsecret mode (docs/deploy.md step 4).
    // The app asks for tokens for its GRAPH_BASE_URL's origin (so that a national cloud's Graph works): locally
    // the simulator's, which stands for Graph in Entra too, with the same permissions.
    const simulatorPort = options.simulatorPort ? options.simulatorPort : await freePort();
    const localGraph = `http://127.0.0.1:${simulatorPort}`;
    const consented = [...(options.graphRoles ?? CONSENTED_GRAPH_ROLES)];
    const graphRoles = { 'https://graph.microsoft.com': consented, [localGraph]: consented };
    const registration =
      parameters.graphAuthMode === 'clientsecret' ? { clientId: String(parameters.graphAppId), principalId: randomUUID(), secret: String(parameters.graphClientSecret), roles: graphRoles } : undefined;
    const entraStandIn: EntraStandIn = await startEntraStandIn({
      tenantId,
      identities: [{ ...identity, resourceId: identityResourceId, ...(registration ? {} : { roles: graphRoles }) }, operator],
      apps: registration ? [registration] : [],
    });
    stops.push(() => entraStandIn.close());
    const mi = entraStandIn.managedIdentity;
    const entra = { jwksUrl: entraStandIn.jwksUrl, issuer: entraStandIn.issuers.v1 };
    // What the platform gives the site's process (startSiteHost sets it there, not here): its identity's endpoint;
    // and where Entra ID answers (in Azure, DNS).
    const platformEnv: Record<string, string> = {
      AZURE_FUNCTIONS_ENVIRONMENT: 'Production',
      IDENTITY_ENDPOINT: mi.endpoint,
      IDENTITY_HEADER: mi.header,
      AZURE_AUTHORITY_HOST: entraStandIn.authorityHost,
    };

    const storageRoles: Record<string, StorageRole[]> = Object.fromEntries(Object.entries(rolesAt('storage')).map(([p, roles]) => [p, roles.filter(isStorageRole)]));
    // The roles docs/deploy.md step 9 has the operator give themselves for the CLIs.
    storageRoles[operator.principalId] = [...(storageRoles[operator.principalId] ?? []), ...OPERATOR_STORAGE_ROLES];
    const storage = await startIdentityStorage({ ...entra, tenantId, roles: storageRoles, ...(options.storageLocation ? { location: options.storageLocation } : {}) });
    stops.push(() => storage.stop());
    const vaultRoles = Object.fromEntries(Object.entries(rolesAt('vault')).map(([p, roles]) => [p, roles.filter(isKeyVaultRole)])) as Record<string, KeyVaultRole[]>;
    const vault = await startKeyVaultStandIn({ entra: { ...entra, roles: vaultRoles, tenantId } });
    stops.push(() => vault.close());
    const ingestion = await startIngestionStandIn({ entra: { ...entra, publishers: Object.keys(rolesAt('appInsights')) } });
    stops.push(() => ingestion.close());
    const graphOptions: LocalGraphOptions = { port: simulatorPort, tenantId, appId: identity.clientId, verifyTokens: { ...entra, audiences: [localGraph] } };
    const simulator = await (options.startGraph ?? startInProcessGraph)(graphOptions);
    stops.push(() => simulator.close());

    const template = CompiledTemplate.read(templateFile, parameters, {
      tenantId,
      // The template's own GRAPH_JWKS_URL expression then names the simulator's keys, which sign its validation tokens.
      loginEndpoint: `${simulator.baseUrl}/`,
      identity,
      // As Azure gives a storage account's primaryEndpoints: with a trailing slash.
      storage: { name: storage.account, blobEndpoint: `${storage.blobServiceUri}/`, queueEndpoint: `${storage.queueServiceUri}/`, tableEndpoint: `${storage.tableServiceUri}/` },
      monitoring: { appInsightsName: 'appi-local', appInsightsConnectionString: ingestion.connectionString },
      vault: { vaultUri: `${vault.url.replace(/\/$/, '')}/` },
    });
    // GRAPH_BASE_URL is the template's one literal endpoint: replaced only when it is Microsoft Graph's, so a
    // mis-shaped one fails here as in Azure.
    const deployed = template.appSettings();
    if (deployed.GRAPH_BASE_URL !== MICROSOFT_GRAPH) throw new CompiledTemplateError(`GRAPH_BASE_URL is ${deployed.GRAPH_BASE_URL ?? 'not set'}, not Microsoft Graph (${MICROSOFT_GRAPH}).`);
    const appSettings = { ...deployed, GRAPH_BASE_URL: simulator.baseUrl };
    const unreplaced = Object.entries(appSettings).filter(([, v]) => AZURE_HOSTS.test(v));
    if (unreplaced.length > 0) throw new CompiledTemplateError(`Settings name an Azure endpoint the stack has no stand-in for: ${unreplaced.map(([k]) => k).join(', ')}.`);

    // What provisioning and the operator do before the app runs: the storage the Bicep creates, the clientState
    // and the certificate (docs/deploy.md, npm run azure-setup -- vault, as the operator: the same code, with the
    // roles the template gave deployerPrincipalId), the secret the template writes, and the keyed URLs (step 6).
    const port = options.port === undefined || options.port === 0 ? await freePort() : options.port;
    const hostUrl = `http://127.0.0.1:${port}`;
    const { functionKey } = await provisionStorage(storage.adminConnectionString, template.storageResources(), { appSettings, appDir: options.appDir });
    const operatorCredential = siteIdentityCredential({ platformEnv }, operator.clientId);
    const noWait: ForbiddenRetry = { untilMs: 0, everyMs: 1 };
    // The stand-in's address is loopback, not *.vault.azure.net: its challenge names Key Vault's resource.
    const vaultOptions = { disableChallengeResourceVerification: true };
    await ensureClientState(new SecretClient(vault.url, operatorCredential, vaultOptions), noWait);
    await ensureEncryptionCertificate(new CertificateClient(vault.url, operatorCredential, vaultOptions), String(template.parameter('keyVaultCertificateName')), noWait);
    if (template.parameter('graphClientSecret')) vault.setSecret('graph-client-secret', String(template.parameter('graphClientSecret')), 'text/plain');
    const publicUrl = options.publicUrl ?? hostUrl;
    vault.setSecret('graph-notification-url', `${publicUrl}/api/notifications?code=${functionKey}`);
    vault.setSecret('graph-lifecycle-url', `${publicUrl}/api/lifecycle?code=${functionKey}`);

    // App Service reads the references with the identity the site names, or its system-assigned one (none here).
    const referenceIdentity = template.keyVaultReferenceIdentity();
    const site: AzureSite = { appSettings, platformEnv, ...(referenceIdentity ? { keyVaultReferenceIdentity: referenceIdentity } : {}) };
    return {
      hostUrl,
      port,
      functionKey,
      simulator,
      vault,
      storage,
      ingestion,
      identity,
      tenantId,
      site,
      siteSettings: () => readSiteSettings(site),
      operatorEnv: (siteSettings) => operatorEnvironment(siteSettings, platformEnv, operator.clientId),
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/**
 * Starts the Azure-shaped local stack (`npm start -- --azure`): the stand-ins (startAzureStandIns), then the
 * app as the site: on Flex's topology with `flex`, else on one local host in this process.
 */
export async function startAzureStack(options: AzureStackOptions): Promise<AzureStack> {
  const standIns = await startAzureStandIns(options);
  try {
    const host = options.flex
      ? await startSiteTopology(standIns.site, { appDir: options.appDir, port: standIns.port, ...options.flex })
      : await startSiteHost(standIns.site, { appDir: options.appDir, port: standIns.port, ...(options.log ? { log: options.log } : {}) });
    return {
      ...standIns,
      host,
      stop: async () => {
        await host.stop();
        await standIns.stop();
      },
    };
  } catch (e) {
    await standIns.stop();
    throw e;
  }
}
