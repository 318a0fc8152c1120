import type { CertificateStore } from '../../shared/certificates/certificate-store.js';
import type { HostLine, HostProcess, SimulatorProcess, TopologyOptions } from './processes.js';
import type { RunStorage } from './run-storage.js';

/** Which stack a chaos run ran the app on: `npm start`'s Development host, or the Azure-shaped one (`--azure`). */
export type StackKind = 'development' | 'azure';

/** What the Azure stand-ins answered the app with authorization, counted at the end of the run (azure only). */
export interface AzureTraffic {
  /** Storage requests the role gate let through and Azurite answered below 400. */
  readonly storage: number;
  /** Key Vault requests with a valid token (references, certificates). */
  readonly vault: number;
  /** Key Vault requests answered 503 while it was down (the certificate fault). */
  readonly vaultRefusedWhileDown: number;
  /** Telemetry items Application Insights' ingestion took. */
  readonly telemetry: number;
}

/**
 * What a chaos run runs the app on: Graph, storage, the certificates and the host, each a process or a
 * stand-in the faults act on.
 */
export interface ChaosStack {
  readonly kind: StackKind;
  readonly sim: SimulatorProcess;
  readonly host: HostProcess;
  /** The harness's way into the run's storage (shared key, never the app's): the quiet check and the outcome. */
  readonly storage: RunStorage;
  /** Where the run's certificates are read, to decrypt dead letters. */
  readonly certificates: Pick<CertificateStore, 'decryptionKey'>;
  /** Where things run, for the progress log. */
  readonly description: string;
  /** Storage stops for `downMs` and starts again on the same data and ports. */
  restartStorage(downMs: number): Promise<void>;
  /** The certificates cannot be read for `forMs` from a host restart on, so that the app holds no key in memory. */
  certificatesUnreadable(forMs: number): Promise<void>;
  /** Undoes what a fault left behind before the quiet period: storage up, host running. */
  restore(): Promise<void>;
  /** What the stand-ins saw (azure only). */
  traffic?(): AzureTraffic;
  stop(): Promise<void>;
}

/** What both stacks are started with. */
export interface ChaosStackOptions {
  /** The run's folder (storage data, the host's log, the site's file). */
  readonly work: string;
  /** The desired subscriptions file the app keeps. */
  readonly desiredFile: string;
  /** The host's fixed port, behind the notification proxy. */
  readonly hostPort: number;
  /** The URL Graph is given for notifications and lifecycle events: the proxy's. */
  readonly proxyUrl: string;
  /** Every line of every host process. */
  readonly onLine: (line: HostLine) => void;
  /** The app on Flex's topology; absent: one host process. */
  readonly topology?: TopologyOptions;
}
