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

  it('runs npm run package before packaging, and prints the next steps after provision and deploy, on Linux/macOS and Windows', () => {
    const service = services[0]?.[1];
    for (const hook of [service?.hooks.prepackage?.posix, service?.hooks.prepackage?.windows]) expect(hook?.run).toBe('npm run package');
    expect(project.hooks.postprovision?.posix.run).toContain('node dist/scripts/azd-next-steps.js provisioned');
    expect(project.hooks.postprovision?.windows.run).toContain('node dist/scripts/azd-next-steps.js provisioned');
    expect(project.hooks.postdeploy?.posix.run).toBe('node dist/scripts/azd-next-steps.js deployed');
    expect(project.hooks.postdeploy?.windows.shell).toBe('pwsh');
  });

  it("maps azd's environment into every parameter of infra/main.parameters.json, each a parameter of main.bicep", () => {
    const params = (JSON.parse(read('infra/main.parameters.json')) as { parameters: Record<string, { value: string }> }).parameters;
    expect(params.environmentName?.value).toBe('${AZURE_ENV_NAME}');
    expect(params.location?.value).toBe('${AZURE_LOCATION}');
    expect(params.deployerPrincipalId?.value).toBe('${AZURE_PRINCIPAL_ID}');
    expect(params.deployerPrincipalType?.value).toBe('${AZURE_PRINCIPAL_TYPE=User}');
    const bicep = read('infra/main.bicep');
    for (const [name, { value }] of Object.entries(params)) {
      expect(bicep, name).toMatch(new RegExp(`^param ${name} `, 'm'));
      expect(value, name).toMatch(/^\$\{[A-Z_]+(=[^}]*)?\}$/);
    }
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
    expect(deployed.stdout).toContain('az functionapp keys set -g rg-relay -n func-relay-abc --key-type functionKeys --key-name graph');
    expect(deployed.stdout).toContain('npm run subscriptions -- check-endpoints');
    expect(deployed.stdout).toContain('azd env set MANAGE_SUBSCRIPTIONS true');
    const managing = spawnSync(process.execPath, [NEXT_STEPS, 'deployed'], { env: { ...env, MANAGE_SUBSCRIPTIONS: 'true' }, encoding: 'utf8' });
    expect(managing.stdout).toContain('npm run subscriptions -- status');
    const provisioned = spawnSync(process.execPath, [NEXT_STEPS, 'provisioned'], { env, encoding: 'utf8' });
    expect(provisioned.stdout).toContain('az keyvault certificate create --vault-name kv-relayabc');
    expect(spawnSync(process.execPath, [NEXT_STEPS], { encoding: 'utf8' }).status).toBe(2);
  });
});
