import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cleanProcessEnv } from '../../cli/clean-process-env.js';
import { KeyVaultCertificateStore } from '../../shared/certificates/key-vault-certificate-store.js';
import { startAzureStandIns } from '../azure-stack/azure-stack.js';
import type { AzureSite } from '../azure-stack/site-host.js';
import { siteIdentityCredential } from '../azure-stack/site-identity-credential.js';
import { ChaosStepError } from './chaos-error.js';
import { GRAPH_TIME_SCALE, HOST_HARNESS_ENV, runAppSettings } from './chaos-config.js';
import type { ChaosStack, ChaosStackOptions } from './chaos-stack.js';
import { HostProcess, REPO_ROOT, startSimulatorProcess, type SimulatorProcess } from './processes.js';
import { runStorage } from './run-storage.js';
import { sleep } from './wait.js';

/**
 * The Azure-shaped stack (`--azure`): the stand-ins of startAzureStandIns in this process (Entra, storage by
 * identity behind the role gate on a data folder, Key Vault in RBAC mode, Application Insights' ingestion),
 * Graph's simulator in its own process checking the Entra stand-in's tokens, and the app as the site
 * (`start-local --site`) in Production with the template's settings, Key Vault references and all, and only
 * the run's subscriptions file and compressed time over them. Needs NODE_EXTRA_CA_CERTS naming the loopback
 * certificate in this process (main.ts relaunches itself so).
 */
export async function startAzureChaosStack(o: ChaosStackOptions & { readonly templateFile?: string }): Promise<ChaosStack> {
  let sim: SimulatorProcess | undefined;
  const standIns = await startAzureStandIns({
    // Resolved, as start-local --site resolves it (no trailing slash): the host's id, and so the function key
    // the vault's URLs carry, follow the app folder's name.
    appDir: resolve(REPO_ROOT),
    port: o.hostPort,
    storageLocation: join(o.work, 'azurite'),
    // Graph reaches the site through the run's proxy, which stays while the host comes and goes.
    publicUrl: o.proxyUrl,
    ...(o.templateFile ? { templateFile: o.templateFile } : {}),
    startGraph: async (graph) => {
      const started = await startSimulatorProcess({ CHAOS_GRAPH_TIME_SCALE: String(GRAPH_TIME_SCALE), CHAOS_GRAPH_OPTIONS: JSON.stringify(graph) });
      sim = started;
      return { baseUrl: started.baseUrl, close: () => started.stop() };
    },
  });
  try {
    if (!sim) throw new ChaosStepError('the Azure-shaped stack started no Graph simulator');
    const simulator = sim;
    const { vault, storage, ingestion } = standIns;
    const site: AzureSite = { ...standIns.site, appSettings: { ...standIns.site.appSettings, ...runAppSettings(o.desiredFile) } };
    const siteFile = join(o.work, 'site.json');
    writeFileSync(siteFile, JSON.stringify(site, null, 2), { mode: 0o600 });
    // The site's process keeps of the harness's environment enough to run Node, and its trust in the stand-ins.
    const env = cleanProcessEnv({ ...HOST_HARNESS_ENV, NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS });

    // The vault goes down once the restarted site has read its references: App Service reads them at the
    // site's start and keeps them, the app reads its certificate from the vault itself, lazily.
    let vaultDownOnceResolved = false;
    let refusedWhileDown = 0;
    /** How many requests the vault had logged when it went down: every one it logs while down is answered 503. */
    let loggedWhenDown = 0;
    const host = new HostProcess(
      { mode: 'site', siteFile, env },
      o.hostPort,
      join(o.work, 'host.log'),
      (line) => {
        if (vaultDownOnceResolved && line.event === 'host.key_vault_references_resolved') {
          loggedWhenDown = vault.requests.length;
          vault.down = true;
        }
        o.onLine(line);
      },
      o.topology,
    );
    const settings = site.appSettings;
    return {
      kind: 'azure',
      sim: simulator,
      host,
      storage: runStorage(storage.adminConnectionString),
      // Read as the app reads them: from the vault, with the site's identity (the harness holds no role of its own).
      certificates: new KeyVaultCertificateStore({
        vaultUrl: String(settings.KEY_VAULT_URL),
        certificateName: String(settings.KEY_VAULT_CERTIFICATE_NAME),
        credential: siteIdentityCredential(site),
        clientOptions: { disableChallengeResourceVerification: true },
      }),
      description: `Azure-shaped: simulator ${simulator.baseUrl} (Entra tokens checked), vault ${vault.url}, storage ${storage.queueServiceUri} behind the role gate`,
      restartStorage: (downMs) => storage.restartAzurite(downMs),
      certificatesUnreadable: async (forMs) => {
        vaultDownOnceResolved = true;
        try {
          await host.kill();
          await host.start();
          await host.decrypting();
          await sleep(forMs);
        } finally {
          vaultDownOnceResolved = false;
          if (vault.down) refusedWhileDown += vault.requests.length - loggedWhenDown;
          vault.down = false;
        }
      },
      restore: async () => {
        vault.down = false;
        if (!host.running) await host.start();
      },
      traffic: () => ({
        storage: storage.requests.filter((r) => r.status < 400).length,
        vault: vault.requests.filter((r) => r.authorized).length,
        vaultRefusedWhileDown: refusedWhileDown,
        telemetry: ingestion.items.length,
      }),
      // The site first: its last writes go to the stand-ins.
      stop: () => host.stop().then(() => standIns.stop()),
    };
  } catch (e) {
    await standIns.stop();
    throw e;
  }
}
