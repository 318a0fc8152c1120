import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ManagedIdentityCredential } from '@azure/identity';
import { CertificateClient } from '@azure/keyvault-certificates';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManagedIdentityEndpoint, type ManagedIdentityEndpoint } from '../../dev/entra/managed-identity-endpoint.js';
import { startKeyVaultStandIn, type KeyVaultRole, type KeyVaultStandIn } from '../../dev/key-vault/key-vault-stand-in.js';
import { loopbackCertificate } from '../../dev/tls/loopback-certificate.js';
import { pointManagedIdentityAt } from '../helpers/managed-identity-env.js';

const CLI = fileURLToPath(new URL('../../dist/cli/azure-setup.js', import.meta.url));
const TENANT = '11111111-1111-4111-8111-111111111111';
const OPERATOR = { clientId: '88888888-8888-4888-8888-888888888888', principalId: '99999999-9999-4999-8999-999999999999' };

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe('npm run azure-setup, as an operator signed in with an identity of their own, against the Key Vault stand-in', () => {
  let mi: ManagedIdentityEndpoint;
  let vault: KeyVaultStandIn;
  let caFile: string;
  let restoreEnv: () => void = () => undefined;
  // Read by the vault at each request: granting a role here is a role assignment that takes effect later.
  const roles: Record<string, KeyVaultRole[]> = {};

  /** Runs the CLI as the operator; `onStderr` sees each chunk as it comes. */
  const run = (args: string[], onStderr?: (text: string) => void) =>
    new Promise<Run>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        env: { PATH: process.env.PATH ?? '', IDENTITY_ENDPOINT: mi.endpoint, IDENTITY_HEADER: mi.header, AZURE_CLIENT_ID: OPERATOR.clientId, NODE_EXTRA_CA_CERTS: caFile },
      });
      const out = { stdout: '', stderr: '' };
      child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => {
        out.stderr += d.toString();
        onStderr?.(d.toString());
      });
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, ...out }));
    });
  const asOperator = { tlsOptions: { ca: '' }, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } };

  beforeAll(async () => {
    caFile = (await loopbackCertificate()).caFile;
    mi = await startManagedIdentityEndpoint({ tenantId: TENANT, identities: [OPERATOR] });
    restoreEnv = pointManagedIdentityAt(mi);
    vault = await startKeyVaultStandIn({ entra: { jwksUrl: mi.jwksUrl, issuer: mi.issuer, roles, tenantId: TENANT } });
    asOperator.tlsOptions.ca = vault.tlsCa;
  });
  afterAll(async () => {
    restoreEnv();
    await vault?.close();
    await mi?.close();
  });

  it('whoami names the signed-in identity by object id and type (a service principal here), from its own token', async () => {
    const r = await run(['whoami']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${OPERATOR.principalId} ServicePrincipal`));
    expect((await run(['whoami', '--field', 'objectId'])).stdout).toBe(`${OPERATOR.principalId}\n`);
    expect((await run(['whoami', '--field', 'type'])).stdout).toBe('ServicePrincipal\n');
  });

  it('vault waits out the 403 of roles not yet applied, then creates the clientState and a PEM certificate', async () => {
    let granted = false;
    const r = await run(['vault', '--vault-url', vault.url, '--retry-seconds', '1', '--wait-minutes', '5'], (text) => {
      // The role assignment "propagates" once the CLI has met its 403 and said it will try again.
      if (!granted && /403 from the vault[^\n]*role assignments take minutes to apply/.test(text)) {
        granted = true;
        roles[OPERATOR.principalId] = ['Key Vault Secrets Officer', 'Key Vault Certificates Officer'];
      }
    });
    expect(r.status, r.stderr).toBe(0);
    expect(granted).toBe(true);
    expect(r.stdout).toContain('graph-client-state: created');
    expect(r.stdout).toContain('graph-notifications: created');
    const secrets = new SecretClient(vault.url, new ManagedIdentityCredential({ clientId: OPERATOR.clientId }), asOperator);
    const clientState = await secrets.getSecret('graph-client-state');
    expect(clientState.value).toMatch(/^[0-9a-f]{64}$/);
    // Never printed: the output names the secret, not its value.
    expect(`${r.stdout}${r.stderr}`).not.toContain(clientState.value);
    const certificate = await new CertificateClient(vault.url, new ManagedIdentityCredential({ clientId: OPERATOR.clientId }), asOperator).getCertificate('graph-notifications');
    expect(certificate.policy?.contentType).toBe('application/x-pem-file');
    expect(certificate.cer?.length).toBeGreaterThan(500);
  });

  it('vault run again (a second operator, a later deployment) keeps both as they are', async () => {
    const secrets = new SecretClient(vault.url, new ManagedIdentityCredential({ clientId: OPERATOR.clientId }), asOperator);
    const before = await secrets.getSecret('graph-client-state');
    const r = await run(['vault', '--vault-url', vault.url]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('graph-client-state: already there, kept');
    expect(r.stdout).toContain('graph-notifications: already there, kept');
    const after = await secrets.getSecret('graph-client-state');
    expect(after.properties.version).toBe(before.properties.version);
    expect(after.value).toBe(before.value);
  });

  it('vault names a kept certificate the app cannot read (PKCS#12) and exits 1', async () => {
    vault.addVersion('pfx-certificate', { der: Buffer.from('30', 'hex'), secret: 'MIIB', contentType: 'application/x-pkcs12' });
    const r = await run(['vault', '--vault-url', vault.url, '--certificate-name', 'pfx-certificate']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/pfx-certificate: already there, kept \(warning: its content type is application\/x-pkcs12: the app reads PEM only/);
  });

  it('vault gives up after the wait when the role never comes, saying which roles the account needs', async () => {
    const stranger = await startKeyVaultStandIn({ entra: { jwksUrl: mi.jwksUrl, issuer: mi.issuer, roles: {}, tenantId: TENANT } });
    try {
      const r = await run(['vault', '--vault-url', stranger.url, '--retry-seconds', '1', '--wait-minutes', '0']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/403 Forbidden, still after the wait: does this account hold Key Vault Secrets Officer and Certificates Officer/);
    } finally {
      await stranger.close();
    }
  });

  it('refuses bad usage with exit code 2', async () => {
    expect((await run(['vault', '--credential', 'password', '--vault-url', 'https://x.vault.azure.net'])).status).toBe(2);
    expect((await run(['deploy'])).status).toBe(2);
  });
});
