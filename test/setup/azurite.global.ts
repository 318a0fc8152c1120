import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startAzurite, type AzuritePorts } from '../../dev/azurite/azurite-process.js';

/** Storage accounts for test files to take, one each; more than the files that take one. */
const ACCOUNTS = Array.from({ length: 64 }, (_, i) => `tcrtest${i + 1}`);

/**
 * vitest's global setup of the integration tier: one Azurite (in memory, free ports) per worker, started once
 * for the whole run, each with many storage accounts. A test file that calls testAzurite()
 * (test/helpers/azurite.ts) takes an account of its own on its worker's Azurite, so it starts on an empty
 * storage, as with an Azurite of its own, without the seconds that starting one costs. One per worker rather
 * than one in all: files that run at the same time never share an Azurite process, whose one thread would
 * otherwise slow them both (measured: the run took 10 % longer with one). A file that stops or kills Azurite
 * still starts its own (startTestAzurite).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const workers = Math.max(1, Number(project.globalConfig.maxWorkers) || 1);
  const azurites = await Promise.all(Array.from({ length: workers }, () => startAzurite({ accounts: ACCOUNTS })));
  // Where files claim accounts: creating a folder is atomic, so two files never take the same one.
  const claims = mkdtempSync(join(tmpdir(), 'tcr-azurite-accounts-'));
  project.provide('testAzurite', { ports: azurites.map((a) => a.ports), accounts: ACCOUNTS, claims });
  return async () => {
    await Promise.all(azurites.map((a) => a.stop()));
    rmSync(claims, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The workers' Azurites, the first for VITEST_POOL_ID 1 and so on. */
    testAzurite: { ports: AzuritePorts[]; accounts: string[]; claims: string };
  }
}
