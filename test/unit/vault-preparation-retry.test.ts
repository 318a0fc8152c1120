import { describe, expect, it } from 'vitest';
import { retryWhileForbidden, VaultPreparationError } from '../../cli/azure-setup/vault-preparation.js';

/** An error as @azure/core-rest-pipeline raises it for a Key Vault answer: status, code and the body as text. */
const vaultError = (statusCode: number, code: string, inner?: string) =>
  Object.assign(new Error(`${code} from the vault`), {
    statusCode,
    code,
    response: { bodyAsText: JSON.stringify({ error: { code, message: '…', ...(inner ? { innererror: { code: inner } } : {}) } }) },
  });

describe('retryWhileForbidden: waiting out role assignments, not what waiting cannot cure', () => {
  const retry = (untilMs: number, slept: number[]) => ({ untilMs, everyMs: 1000, sleep: async (ms: number) => void slept.push(ms) });

  it('tries again after a 403 for a role (ForbiddenByRbac) until the step succeeds', async () => {
    const slept: number[] = [];
    let calls = 0;
    const result = await retryWhileForbidden('secret x', retry(Date.now() + 60_000, slept), async () => {
      calls += 1;
      if (calls < 3) throw vaultError(403, 'Forbidden', 'ForbiddenByRbac');
      return 'done';
    });
    expect(result).toBe('done');
    expect(slept).toEqual([1000, 1000]);
  });

  it('gives up with the 403 itself once the deadline would pass', async () => {
    const slept: number[] = [];
    await expect(retryWhileForbidden('secret x', retry(Date.now() + 500, slept), () => Promise.reject(vaultError(403, 'Forbidden', 'ForbiddenByRbac')))).rejects.toMatchObject({ statusCode: 403 });
    expect(slept).toEqual([]);
  });

  it("fails at once on the vault's firewall (ForbiddenByFirewall) and on a soft-deleted name, saying what to do", async () => {
    const slept: number[] = [];
    await expect(retryWhileForbidden('secret x', retry(Date.now() + 60_000, slept), () => Promise.reject(vaultError(403, 'Forbidden', 'ForbiddenByFirewall')))).rejects.toThrow(
      /firewall refuses this address/,
    );
    const recoverable = retryWhileForbidden('certificate y', retry(Date.now() + 60_000, slept), () => Promise.reject(vaultError(409, 'ObjectIsDeletedButRecoverable')));
    await expect(recoverable).rejects.toBeInstanceOf(VaultPreparationError);
    await expect(recoverable).rejects.toThrow(/az keyvault certificate recover/);
    expect(slept).toEqual([]);
  });

  it('never retries another failure', async () => {
    const slept: number[] = [];
    await expect(retryWhileForbidden('secret x', retry(Date.now() + 60_000, slept), () => Promise.reject(vaultError(500, 'InternalError')))).rejects.toMatchObject({ statusCode: 500 });
    expect(slept).toEqual([]);
  });
});
