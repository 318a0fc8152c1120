import { spawn } from 'node:child_process';
import type { IndexedFunction } from '../local-host/function-index.js';
import { RelayError } from '../../shared/errors.js';
import type { InstanceCommand } from './flex-instance.js';

/** The app could not be indexed (its host did not start, or its output held no index). */
export class AppIndexError extends RelayError {
  constructor(message: string) {
    super('ERR_APP_INDEX', message);
  }
}

/**
 * The app's functions, indexed by its own host in a process of their own (`start-local --describe`), as the
 * platform learns an app's triggers from its host: the topology never loads the app's code itself.
 */
export async function describeApp(command: InstanceCommand): Promise<IndexedFunction[]> {
  const child = spawn(process.execPath, [...command.args, '--describe'], { env: command.env, cwd: command.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  for (const line of stdout.split('\n')) {
    if (!line.includes('"host.functions_indexed"')) continue;
    const parsed = JSON.parse(line) as { functions?: IndexedFunction[] };
    if (code === 0 && Array.isArray(parsed.functions)) return parsed.functions;
  }
  throw new AppIndexError(`The app could not be indexed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ') || 'no index in its output'}`);
}
