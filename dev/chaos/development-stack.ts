import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalCertificateStore } from '../../shared/certificates/local-certificate-store.js';
import { freePort, startAzurite, type AzuriteProcess, type AzuritePorts } from '../azurite/azurite-process.js';
import { GRAPH_TIME_SCALE, hostSettings } from './chaos-config.js';
import type { ChaosStack, ChaosStackOptions } from './chaos-stack.js';
import { HostProcess, startSimulatorProcess } from './processes.js';
import { runStorage } from './run-storage.js';
import { sleep } from './wait.js';

/**
 * The Development stack (`npm start`'s): Azurite by connection string on a data folder, the simulator with its
 * unsigned tokens, the app's certificates in a local folder, the host in Development.
 */
export async function startDevelopmentStack(o: ChaosStackOptions): Promise<ChaosStack> {
  const certDir = join(o.work, 'certificates');
  const azuriteDir = join(o.work, 'azurite');
  const ports: AzuritePorts = { blob: await freePort(), queue: await freePort(), table: await freePort() };
  let azurite: AzuriteProcess | undefined = await startAzurite({ location: azuriteDir, ports });
  const connectionString = azurite.connectionString;
  const stops: (() => Promise<unknown>)[] = [async () => azurite?.stop()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const sim = await startSimulatorProcess({ CHAOS_GRAPH_TIME_SCALE: String(GRAPH_TIME_SCALE) });
    stops.push(() => sim.stop());
    const settings = hostSettings({ connectionString, desiredFile: o.desiredFile, certDir, sim, proxyUrl: o.proxyUrl });
    const host = new HostProcess({ mode: 'development', settings }, o.hostPort, join(o.work, 'host.log'), o.onLine, o.topology);
    stops.push(() => host.stop());
    return {
      kind: 'development',
      sim,
      host,
      storage: runStorage(connectionString),
      certificates: new LocalCertificateStore(certDir),
      description: `simulator ${sim.baseUrl}, Azurite queue port ${ports.queue}`,
      restartStorage: async (downMs) => {
        await azurite?.stop();
        azurite = undefined;
        await sleep(downMs);
        azurite = await startAzurite({ location: azuriteDir, ports });
      },
      certificatesUnreadable: async (forMs) => {
        // A file where the folder was: every read fails (not "missing"), as an unreadable mount or a denied permission would.
        const away = `${certDir}.away`;
        renameSync(certDir, away);
        writeFileSync(certDir, 'not a folder');
        try {
          await host.kill();
          await host.start();
          await host.decrypting();
          await sleep(forMs);
        } finally {
          rmSync(certDir, { force: true });
          renameSync(away, certDir);
        }
      },
      restore: async () => {
        if (!azurite) azurite = await startAzurite({ location: azuriteDir, ports });
        if (!host.running) await host.start();
      },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
