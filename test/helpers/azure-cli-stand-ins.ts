import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Who one stand-in tool is signed in as, and the subscription it acts on. */
export interface StandInLogin {
  readonly objectId: string;
  readonly tenantId: string;
  readonly subscriptionId: string;
  readonly upn: string;
}

/**
 * `az` and `azd` stand-ins (neither can be installed here) in a folder to put first on PATH: node scripts that
 * answer the commands the operator CLIs and @azure/identity's AzureCliCredential and AzureDeveloperCliCredential
 * run, with the JSON shapes the real tools print (`az account show`, `az account get-access-token`,
 * `azd auth token --output json`, `azd env get-value`, `az deployment group show --query properties.outputs`
 * answering `deploymentOutputs`), so that the production code runs unchanged. The tokens
 * are unsigned JWTs: the code under test reads its own token's claims and verifies nothing. Any other command
 * exits 2, naming itself.
 */
export function azureCliStandIns(logins: { az: StandInLogin; azd: StandInLogin }, deploymentOutputs: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'tcr-azcli-'));
  const script = (tool: 'az' | 'azd') => `#!/usr/bin/env node
const login = ${JSON.stringify(logins[tool])};
const args = process.argv.slice(2);
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const token = b64({ alg: 'none', typ: 'JWT' }) + '.' + b64({ oid: login.objectId, tid: login.tenantId, scp: 'user_impersonation', upn: login.upn }) + '.';
const expires = Math.floor(Date.now() / 1000) + 3600;
const is = (...words) => words.every((w, i) => args[i] === w);
const out = (o) => { process.stdout.write(typeof o === 'string' ? o + '\\n' : JSON.stringify(o)); process.exit(0); };
if (${JSON.stringify(tool)} === 'az') {
  if (is('account', 'show')) out({ id: login.subscriptionId, tenantId: login.tenantId, user: { name: login.upn, type: 'user' } });
  if (is('deployment', 'group', 'show')) out(${JSON.stringify(deploymentOutputs)});
  if (is('account', 'get-access-token')) out({ accessToken: token, expiresOn: new Date(expires * 1000).toISOString(), expires_on: expires, subscription: login.subscriptionId, tenant: login.tenantId, tokenType: 'Bearer' });
} else {
  if (is('auth', 'token')) out({ token, expiresOn: new Date(expires * 1000).toISOString() });
  if (is('env', 'get-value', 'AZURE_SUBSCRIPTION_ID')) out(login.subscriptionId);
}
process.stderr.write(${JSON.stringify(tool)} + ' stand-in: unknown command ' + args.join(' ') + '\\n');
process.exit(2);
`;
  for (const tool of ['az', 'azd'] as const) {
    writeFileSync(join(dir, tool), script(tool));
    chmodSync(join(dir, tool), 0o755);
  }
  return dir;
}
