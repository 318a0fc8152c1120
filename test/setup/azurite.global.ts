import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startAzurite, type AzuritePorts } from '../../dev/azurite/azurite-process.js';

/** Storage accounts for test files to take, one each; more than the files that take one. */
const ACCOUNTS = Array.from({ length: 64 }, (_, i) => `tcrtest${i + 1}`);

/**
 * vitest's global setup of the integration tier: one Azurite (in memory, free ports) for the whole run, with
 * many storage accounts. Each test file that calls testAzurite() (test/helpers/azurite.ts) takes an account
 * of its own, so it starts on an empty storage, as with an Azurite of its own, without the seconds that
 * starting one costs. A file that stops or kills Azurite still starts its own (startTestAzurite).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const azurite = await startAzurite({ accounts: ACCOUNTS });
  // Where files claim accounts: creating a folder is atomic, so two files never take the same one.
  const claims = mkdtempSync(join(tmpdir(), 'tcr-azurite-accounts-'));
  project.provide('testAzurite', { ports: azurite.ports, accounts: ACCOUNTS, claims });
  return async () => {
    await azurite.stop();
    rmSync(claims, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    testAzurite: { ports: AzuritePorts; accounts: string[]; claims: string };
  }
}
