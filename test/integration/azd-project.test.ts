import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const NEXT_STEPS = fileURLToPath(new URL('../../dist/scripts/azd-next-steps.js', import.meta.url));

type Hook = { shell: string; run: string };
type AzureYaml = {
  name: string;
  infra: { provider: string; path: string; module: string };
  services: Record<string, { project: string; language: string; host: string; dist: string; remoteBuild: boolean; hooks: Record<string, { posix: Hook; windows: Hook }> }>;
  hooks: Record<string, { posix: Hook; windows: Hook }>;
  requiredVersions?: { azd?: string };
};

describe('azure.yaml (Azure Developer CLI)', () => {
  const project = parse(read('azure.yaml')) as AzureYaml;
  const services = Object.entries(project.services);

  it('has one function service in TypeScript, deployed from the folder npm run package stages, built here', () => {
    expect(project.infra).toEqual({ provider: 'bicep', path: 'infra', module: 'main' });
    expect(services).toHaveLength(1);
    const [name, service] = services[0] ?? [];
    expect(service).toMatchObject({ project: '.', language: 'ts', host: 'function', dist: '.local/package/app', remoteBuild: false });
    // azd finds the app by this tag; the service name must match it.
    expect(read('infra/modules/function-app.bicep')).toContain(`'azd-service-name': '${name}'`);
    expect(read('scripts/package-app.ts')).toContain("default: join('.local', 'package')");
    // The root .funcignore must keep node_modules, or azd switches to a remote build.
    expect(
      read('.funcignore')
        .split('\n')
        .map((l) => l.trim()),
    ).not.toContain('node_modules');
  });

  it('asks for an azd that honours remoteBuild: false (1.23.5) and keeps a staged folder whole (1.23.12)', () => {
    expect(project.requiredVersions?.azd).toBe('>= 1.23.12');
  });

  it('runs npm run package before packaging, checks az and azd act as one and names the principal type before provisioning, prepares the vault and restarts the app after, on Linux/macOS and Windows', () => {
    const service = services[0]?.[1];
    for (const hook of [service?.hooks.prepackage?.posix, service?.hooks.prepackage?.windows]) expect(hook?.run).toBe('npm run package');
    const lines = (hook: Hook | undefined) => (hook?.run ?? '').split('\n').filter((l) => l.trim() !== '');
    const posix = lines(project.hooks.preprovision?.posix);
    expect(posix[0]).toBe('set -e');
    expect(posix.slice(1).join('\n')).toMatch(
      /npm run build --silent\nnode dist\/cli\/azure-setup\.js check-login\nPRINCIPAL_TYPE=\$\(node dist\/cli\/azure-setup\.js whoami --credential azd --field type\)\nazd env set AZURE_PRINCIPAL_TYPE "\$PRINCIPAL_TYPE"/,
    );
    expect(lines(project.hooks.postprovision?.posix)).toEqual([
      'set -e',
      'node dist/cli/azure-setup.js vault --credential azd',
      'az functionapp restart -g "$AZURE_RESOURCE_GROUP" -n "$FUNCTION_APP_NAME" -o none',
      'node dist/scripts/azd-next-steps.js provisioned',
    ]);
    // pwsh: a failed line ends the hook with its exit code (`a; if ($?) { b }` would end it with 0).
    for (const hook of [project.hooks.preprovision?.windows, project.hooks.postprovision?.windows]) {
      expect(hook?.shell).toBe('pwsh');
      const all = lines(hook);
      for (const line of all.slice(0, -1)) expect(line, line).toMatch(/; if \(\$LASTEXITCODE -ne 0\) \{ exit \$LASTEXITCODE \}$/);
      expect(all.join('\n')).not.toContain('if ($?)');
    }
    expect(lines(project.hooks.postprovision?.windows).map((l) => l.split(';')[0])).toEqual([
      'node dist/cli/azure-setup.js vault --credential azd',
      'az functionapp restart -g $env:AZURE_RESOURCE_GROUP -n $env:FUNCTION_APP_NAME -o none',
      'node dist/scripts/azd-next-steps.js provisioned',
    ]);
    expect(project.hooks.postdeploy?.posix.run).toBe('node dist/scripts/azd-next-steps.js deployed');
    expect(project.hooks.postdeploy?.windows.shell).toBe('pwsh');
  });

  it('the hooks print the commands still to run, filled in from the azd environment', () => {
    const env = {
      ...process.env,
      FUNCTION_APP_NAME: 'func-relay-abc',
      AZURE_RESOURCE_GROUP: 'rg-relay',
      KEY_VAULT_NAME: 'kv-relayabc',
      NOTIFICATION_URL: 'https://func-relay-abc.azurewebsites.net/api/notifications',
      MANAGE_SUBSCRIPTIONS: 'false',
    };
    const deployed = spawnSync(process.execPath, [NEXT_STEPS, 'deployed'], { env, encoding: 'utf8' });
    expect(deployed.status).toBe(0);
    expect(deployed.stdout).toContain('az functionapp keys set -g rg-relay -n func-relay-abc --key-type functionKeys --key-name graph --key-value "$KEY" -o none');
    // The key is never printed or passed where the terminal shows it: step 6's lines, with the outputs filled in.
    expect(deployed.stdout).toContain(
      'az keyvault secret set --vault-name kv-relayabc -n graph-notification-url --value "https://func-relay-abc.azurewebsites.net/api/notifications?code=$KEY" -o none',
    );
    expect(deployed.stdout).not.toMatch(/--key-value "\$\(openssl/);
    // check-endpoints reads the two keyed URLs: printed with the exports step 7 gives them.
    expect(deployed.stdout).toMatch(
      /export GRAPH_NOTIFICATION_URL=\$\(az keyvault secret show --vault-name kv-relayabc -n graph-notification-url[^\n]*\n[^\n]*export GRAPH_LIFECYCLE_URL=[^\n]*\n\s*npm run subscriptions -- check-endpoints/,
    );
    // The function key is step 6 of docs/deploy.md, the check 7, the switch 8.
    expect(deployed.stdout).toContain('docs/deploy.md, steps 6-8');
    expect(read('docs/deploy.md')).toMatch(/## 6\. The function key[\s\S]*## 7\. Check the endpoints[\s\S]*## 8\. Let the app manage/);
    expect(deployed.stdout).toContain('azd env set MANAGE_SUBSCRIPTIONS true');
    const managing = spawnSync(process.execPath, [NEXT_STEPS, 'deployed'], { env: { ...env, MANAGE_SUBSCRIPTIONS: 'true' }, encoding: 'utf8' });
    expect(managing.stdout).toContain('npm run subscriptions -- status   (settings as in docs/deploy.md, step 9)');
    expect(read('docs/deploy.md')).toMatch(/## 9\. Verify[\s\S]*npm run subscriptions -- status/);
    expect(spawnSync(process.execPath, [NEXT_STEPS, 'provisioned'], { env: { ...env, MANAGE_SUBSCRIPTIONS: 'true' }, encoding: 'utf8' }).stdout).not.toContain('step 4');
    const provisioned = spawnSync(process.execPath, [NEXT_STEPS, 'provisioned'], { env, encoding: 'utf8' });
    expect(provisioned.stdout).toContain('the clientState and the encryption certificate are in kv-relayabc');
    expect(spawnSync(process.execPath, [NEXT_STEPS], { encoding: 'utf8' }).status).toBe(2);
  });
});
