import type { ContainerClient } from '@azure/storage-blob';
import { RelayError, restStatus } from '../errors.js';

export class LockTimeoutError extends RelayError {
  constructor(message: string) {
    super('ERR_LOCK_TIMEOUT', message);
  }
}

/**
 * A lock across instances (and the CLI): a lease on a blob. Two reconcilers at once run one after the
 * other, so neither creates what the other just created. The lease is renewed while the work runs and
 * expires by itself if the holder dies.
 */
export class BlobLeaseLock {
  readonly #container: ContainerClient;
  readonly #name: string;
  readonly #leaseSeconds: number;
  readonly #waitMs: number;
  #ready = false;

  constructor(container: ContainerClient, name: string, options: { leaseSeconds?: number; waitMs?: number } = {}) {
    this.#container = container;
    this.#name = name;
    this.#leaseSeconds = options.leaseSeconds ?? 60;
    this.#waitMs = options.waitMs ?? 120_000;
  }

  async #ensureBlob(): Promise<void> {
    if (this.#ready) return;
    await this.#container.createIfNotExists();
    try {
      await this.#container.getBlockBlobClient(this.#name).upload('', 0, { conditions: { ifNoneMatch: '*' } });
    } catch (e) {
      const status = restStatus(e);
      if (status !== 409 && status !== 412) throw e;
    }
    this.#ready = true;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.#ensureBlob();
    const lease = this.#container.getBlobClient(this.#name).getBlobLeaseClient();
    const started = Date.now();
    for (;;) {
      try {
        await lease.acquireLease(this.#leaseSeconds);
        break;
      } catch (e) {
        if (restStatus(e) !== 409) throw e;
        if (Date.now() - started > this.#waitMs) throw new LockTimeoutError(`Another reconciler has held ${this.#name} for over ${this.#waitMs} ms.`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const renew = setInterval(() => void lease.renewLease().catch(() => undefined), (this.#leaseSeconds * 1000) / 3);
    try {
      return await work();
    } finally {
      clearInterval(renew);
      await lease.releaseLease().catch(() => undefined);
    }
  }
}
