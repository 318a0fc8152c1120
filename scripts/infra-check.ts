#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/**
 * `npm run infra:check` (part of `npm test`): restores the real Bicep CLI from NuGet
 * (Azure.Bicep.CommandLine.linux-x64, through infra/tools/bicep-cli.csproj and the .NET SDK), then
 * `bicep build` and `bicep lint` on infra/main.bicep. Any error or warning fails. The compiled ARM template
 * goes to .local/infra/main.json (or `--out <dir>`), where a test checks what matters in it.
 * The gate holds no rule that depends on today's date: `use-recent-api-versions` is off in bicepconfig.json, so
 * the same commit passes on any day. `--api-versions` (`npm run infra:api-versions`) is the separate report of
 * that rule: it lints a copy of infra/ with the rule on, prints what it finds and exits 0.
 */
const BICEP_VERSION = '0.49.2';
const root = resolve(process.cwd());
const packages = join(root, '.local', 'nuget');
/** BICEP_PATH uses a Bicep CLI you installed yourself (e.g. on macOS or Windows, where the NuGet package differs). */
const bicep = process.env.BICEP_PATH ?? join(packages, 'azure.bicep.commandline.linux-x64', BICEP_VERSION, 'tools', 'bicep');
const { values: flags } = parseArgs({ options: { out: { type: 'string', default: join(root, '.local', 'infra') }, 'api-versions': { type: 'boolean', default: false } } });
const outDir = resolve(flags.out);

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; output: string } {
  const r = spawnSync(command, args, { cwd: root, encoding: 'utf8', env: { ...env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' } });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

if (!existsSync(bicep) && !process.env.BICEP_PATH) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    process.stderr.write(`The NuGet Bicep CLI used here is for linux-x64; on ${process.platform}-${process.arch} install Bicep and set BICEP_PATH.\n`);
    process.exit(1);
  }
  const restore = run('dotnet', ['restore', join('infra', 'tools', 'bicep-cli.csproj'), '--packages', packages]);
  if (restore.status !== 0 || !existsSync(bicep)) {
    process.stderr.write(`Restoring the Bicep CLI from NuGet failed (the .NET SDK is needed):\n${restore.output}\n`);
    process.exit(1);
  }
}
if (!process.env.BICEP_PATH) chmodSync(bicep, 0o755);
mkdirSync(outDir, { recursive: true });

if (flags['api-versions']) {
  const copy = mkdtempSync(join(tmpdir(), 'tcr-infra-'));
  try {
    cpSync(join(root, 'infra'), copy, { recursive: true, filter: (src) => !src.includes(`${join('infra', 'tools')}`) });
    const config = JSON.parse(readFileSync(join(copy, 'bicepconfig.json'), 'utf8')) as { analyzers: { core: { rules: Record<string, { level: string }> } } };
    config.analyzers.core.rules['use-recent-api-versions'] = { level: 'warning' };
    writeFileSync(join(copy, 'bicepconfig.json'), JSON.stringify(config, null, 2));
    const r = run(bicep, ['lint', join(copy, 'main.bicep')]);
    const outdated = r.output
      .split('\n')
      .filter((l) => l.includes('use-recent-api-versions'))
      .map((l) => l.replace(copy, 'infra'));
    process.stdout.write(outdated.length === 0 ? 'API versions: all recent\n' : `API versions to update (a report; npm test does not fail on it):\n${outdated.join('\n')}\n`);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  process.exit(0);
}

// infra/main.bicepparam compiled as a first deployment would have it: the two variables it requires, and none of
// the others it reads from this shell (each then takes its default), into main.parameters.json for the tests.
const paramsFile = join('infra', 'main.bicepparam');
const readVariables = [...readFileSync(join(root, paramsFile), 'utf8').matchAll(/readEnvironmentVariable\('([A-Za-z_][A-Za-z0-9_]*)'/g)].map((m) => m[1] ?? '');
const paramsEnv = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !readVariables.includes(k))), AZURE_ENV_NAME: 'infra-check', AZURE_LOCATION: 'westeurope' };

let failed = false;
for (const [label, args, env] of [
  ['build', ['build', join('infra', 'main.bicep'), '--outfile', join(outDir, 'main.json')], process.env],
  ['lint', ['lint', join('infra', 'main.bicep')], process.env],
  ['build-params', ['build-params', paramsFile, '--outfile', join(outDir, 'main.parameters.json')], paramsEnv],
  ['lint (parameters)', ['lint', paramsFile], paramsEnv],
] as const) {
  const r = run(bicep, [...args], env);
  const diagnostics = r.output.split('\n').filter((l) => /: (Error|Warning|Info) /.test(l));
  if (r.status !== 0 || diagnostics.length > 0) {
    failed = true;
    process.stderr.write(`bicep ${label} reported:\n${r.output}\n`);
  } else {
    process.stdout.write(`bicep ${label}: clean\n`);
  }
}
process.exit(failed ? 1 : 0);
