#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compileTemplate } from '../azure-stack/azure-stack-command.js';
import { loopbackCertificate } from '../tls/loopback-certificate.js';
import { runChaos, type ChaosReport } from './chaos-run.js';
import { FAULT_KINDS, type FaultKind } from './plan.js';
import { REPO_ROOT } from './processes.js';

/** Each tenant performs the whole activity: more would only load the machine. */
const MAX_TENANTS = 4;

/**
 * `npm run chaos -- [--seconds 120] [--seed N] [--rate 4] [--tenants 1] [--faults a,b] [--quiet-cap 600] [--skip-late-faults] [--keep] [--json] [--azure [--template <file>]] [--single-process]`:
 * the whole pipeline under seeded activity and faults, then the ledger (docs/reliability.md). `--tenants N`
 * acts in N tenants (the home tenant and N−1 onboarded while the app runs), the ledger kept per tenant. `--azure` runs
 * the app on the Azure-shaped stack (the compiled template's settings in Production, every Azure service a
 * stand-in; `.local/infra/main.json`, compiled first when missing, or `--template`). Either runs the app on
 * Flex's topology (each function group in its own processes, two per route partition, single instances killed
 * by the instanceKill fault); `--single-process` runs it on one host process instead. The last line
 * printed is one JSON object. Exit code: 0 nothing lost; 1 changes lost; 2 bad usage; 3 the app did not
 * catch up within the quiet period's cap (nothing lost so far).
 */
function usage(message: string): never {
  process.stderr.write(
    `${message}\nUsage: npm run chaos -- [--seconds N] [--seed N] [--rate N] [--tenants N] [--faults ${FAULT_KINDS.join(',')}] [--quiet-cap N] [--skip-late-faults] [--keep] [--json] [--azure [--template <file>]] [--single-process]\n`,
  );
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '120' },
      seed: { type: 'string' },
      rate: { type: 'string', default: '4' },
      tenants: { type: 'string', default: '1' },
      faults: { type: 'string' },
      'quiet-cap': { type: 'string', default: '600' },
      'plant-loss-every': { type: 'string' },
      keep: { type: 'boolean', default: false },
      'skip-late-faults': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      azure: { type: 'boolean', default: false },
      template: { type: 'string' },
      'single-process': { type: 'boolean', default: false },
    },
  }));
} catch (e) {
  usage((e as Error).message);
}
const int = (name: string, v: string | undefined, min: number): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) usage(`--${name} must be an integer ≥ ${min}.`);
  return n;
};
const seconds = int('seconds', values.seconds, 10)!;
const seed = int('seed', values.seed, 0) ?? randomInt(2 ** 31);
const rate = Number(values.rate);
if (!(rate > 0 && rate <= 50)) usage('--rate must be a number of operations per second in (0, 50].');
const faultKinds = values.faults
  ?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const unknown = faultKinds?.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
if (unknown?.length) usage(`Unknown fault kind(s): ${unknown.join(', ')}.`);
const plantLossEvery = int('plant-loss-every', values['plant-loss-every'], 1);
const tenants = int('tenants', values.tenants, 1)!;
if (tenants > MAX_TENANTS) usage(`--tenants must be at most ${MAX_TENANTS}.`);
if (tenants > 1 && values.azure) usage('--tenants goes without --azure (the Azure-shaped stack has one tenant).');
if (values.template && !values.azure) usage('--template goes with --azure.');

let templateFile: string | undefined;
if (values.azure) {
  templateFile = values.template ? resolve(values.template) : join(REPO_ROOT, '.local', 'infra', 'main.json');
  if (!existsSync(templateFile)) {
    if (values.template) usage(`No compiled template at ${templateFile}.`);
    templateFile = compileTemplate(REPO_ROOT);
  }
  // The stand-ins serve the loopback certificate, which Node trusts only when NODE_EXTRA_CA_CERTS names it
  // at start: this process starts again so (as npm start -- --azure does), the template named.
  const { caFile } = await loopbackCertificate();
  if (process.env.NODE_EXTRA_CA_CERTS !== caFile) {
    const args = [...process.argv.slice(2).filter((a, i, all) => a !== '--template' && all[i - 1] !== '--template' && !a.startsWith('--template=')), '--template', templateFile];
    const child = spawn(process.execPath, [process.argv[1]!, ...args], { env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile }, stdio: 'inherit' });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
    process.exit(await new Promise<number>((done) => child.once('exit', (code, signal) => done(code ?? (signal ? 1 : 0)))));
  }
}

const replayArgs = `--seed ${seed} --seconds ${seconds}${tenants > 1 ? ` --tenants ${tenants}` : ''}${values.azure ? ' --azure' : ''}`;
process.stderr.write(`chaos: seed ${seed} (replay with ${replayArgs})\n`);
let report: ChaosReport;
try {
  report = await runChaos({
    seconds,
    seed,
    rate,
    tenants,
    quietCapSeconds: int('quiet-cap', values['quiet-cap'], 10)!,
    keep: values.keep,
    skipLateFaults: values['skip-late-faults'],
    singleProcess: values['single-process'],
    ...(templateFile ? { azure: { templateFile } } : {}),
    ...(faultKinds ? { faultKinds: faultKinds as FaultKind[] } : {}),
    ...(plantLossEvery ? { plantLossEvery } : {}),
    log: (line) => process.stderr.write(`chaos: ${line}\n`),
  });
} catch (e) {
  process.stderr.write(`chaos: the run failed (seed ${seed}): ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
}

if (!values.json) {
  const faults =
    Object.entries(report.faults)
      .map(([k, n]) => `${k} ×${n}`)
      .join(', ') || 'none';
  const lines = [
    `Chaos run (${report.stack} stack), seed ${report.seed}, ${report.seconds} s of activity (${report.wallSeconds} s in all, quiet period ${report.quietSeconds} s${report.converged ? '' : ', did NOT converge'})`,
    `  changes made by Graph:     ${report.changes} (and ${report.excluded} user-specific, not covered)`,
    `  delivered downstream:      ${report.delivered}`,
    `  superseded in a gap:       ${report.superseded} (a later state of the resource was read back)${
      report.superseded > 0
        ? `: ${Object.entries(report.supersededByKind)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}`
        : ''
    }`,
    `  dead-lettered:             ${report.deadLettered}`,
    `  LOST:                      ${report.lost}`,
    `  duplicate copies:          ${report.duplicates}; events matching no change: ${report.unmatchedEvents}`,
    `  faults:                    ${faults}${report.faultsSkipped ? ` (${report.faultsSkipped} skipped)` : ''}; host started ${report.hostStarts} times, ${report.instanceKills} single instances killed; ${report.gaps} gaps`,
    ...(report.tenants ?? []).map(
      (t) => `  tenant ${t.tenantId}: ${t.changes} changes, ${t.events} events with its tenantid, ${t.delivered} delivered, ${t.superseded} superseded, lost: ${t.lost}, duplicates: ${t.duplicates}`,
    ),
    ...report.lostSamples.map((c) => `  lost: ${c.tenantId ? `(tenant ${c.tenantId}) ` : ''}${c.changeType} ${c.resource} version ${c.version ?? '-'} at ${c.at}`),
    ...(report.workDir ? [`  run folder kept: ${report.workDir}`] : []),
    report.lost > 0 ? `Replay: npm run chaos -- ${replayArgs}${values['single-process'] ? ' --single-process' : ''}` : '',
  ];
  process.stdout.write(lines.filter(Boolean).join('\n') + '\n');
}
const { lostSamples, workDir, ...summary } = report;
process.stdout.write(JSON.stringify({ ...summary, ...(lostSamples.length ? { lostSamples } : {}), ...(workDir ? { workDir } : {}) }) + '\n');
process.exit(report.lost > 0 ? 1 : report.converged ? 0 : 3);
