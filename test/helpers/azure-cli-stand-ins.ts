import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
 * answering `deploymentOutputs`; `az ad app federated-credential list` and `create --parameters @<file>` on the app
 * registrations of `appFederatedCredentials`, which it keeps in a file: see `standInFederatedCredentials`), so that
 * the production code runs unchanged. The tokens
 * are unsigned JWTs: the code under test reads its own token's claims and verifies nothing. Any other command
 * exits 2, naming itself.
 */
export function azureCliStandIns(
  logins: { az: StandInLogin; azd: StandInLogin },
  deploymentOutputs: Record<string, unknown> = {},
  appFederatedCredentials: Record<string, Record<string, unknown>[]> = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), 'tcr-azcli-'));
  const apps = join(dir, APPS_FILE);
  writeFileSync(apps, JSON.stringify(appFederatedCredentials));
  const script = (tool: 'az' | 'azd') => `#!/usr/bin/env node
const fs = require('node:fs');
const login = ${JSON.stringify(logins[tool])};
const appsFile = ${JSON.stringify(apps)};
const args = process.argv.slice(2);
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const token = b64({ alg: 'none', typ: 'JWT' }) + '.' + b64({ oid: login.objectId, tid: login.tenantId, scp: 'user_impersonation', upn: login.upn }) + '.';
const expires = Math.floor(Date.now() / 1000) + 3600;
const is = (...words) => words.every((w, i) => args[i] === w);
const out = (o) => { process.stdout.write(typeof o === 'string' ? o + '\\n' : JSON.stringify(o)); process.exit(0); };
if (${JSON.stringify(tool)} === 'az') {
  if (is('account', 'show')) out({ id: login.subscriptionId, tenantId: login.tenantId, user: { name: login.upn, type: 'user' } });
  if (is('deployment', 'group', 'show')) out(${JSON.stringify(deploymentOutputs)});
  if (is('ad', 'app', 'federated-credential')) {
    // As Microsoft Graph answers: an unknown app is 404, a second credential of one name or of one issuer and subject 400.
    const apps = JSON.parse(fs.readFileSync(appsFile, 'utf8'));
    const appId = args[args.indexOf('--id') + 1];
    const credentials = apps[appId];
    if (!credentials) { process.stderr.write("ERROR: Resource '" + appId + "' does not exist or one of its queried reference-property objects are not present.\\n"); process.exit(3); }
    if (args[3] === 'list') out(credentials);
    if (args[3] === 'create') {
      const parameters = args[args.indexOf('--parameters') + 1];
      const wanted = JSON.parse(parameters.startsWith('@') ? fs.readFileSync(parameters.slice(1), 'utf8') : parameters);
      if (credentials.some((c) => c.name.toLowerCase() === wanted.name.toLowerCase() || (c.issuer === wanted.issuer && c.subject === wanted.subject))) {
        process.stderr.write('ERROR: FederatedIdentityCredential with name ' + wanted.name + ' or the same issuer and subject already exists.\\n');
        process.exit(1);
      }
      const created = { id: '00000000-0000-4000-8000-' + String(credentials.length + 1).padStart(12, '0'), ...wanted };
      credentials.push(created);
      fs.writeFileSync(appsFile, JSON.stringify(apps));
      out(created);
    }
  }
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

const APPS_FILE = 'app-federated-credentials.json';

/** The app registrations' federated credentials as the stand-in `az` of `dir` now holds them. */
export function standInFederatedCredentials(dir: string): Record<string, Record<string, unknown>[]> {
  return JSON.parse(readFileSync(join(dir, APPS_FILE), 'utf8')) as Record<string, Record<string, unknown>[]>;
}
