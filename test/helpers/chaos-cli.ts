import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHAOS = fileURLToPath(new URL('../../dist/dev/chaos/main.js', import.meta.url));

/** Runs `npm run chaos` (the built CLI) and resolves with its exit code, its stdout's last line parsed, and its stderr. */
export function runChaosCli(args: string[]): Promise<{ code: number | null; report: Record<string, any>; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHAOS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      let report: Record<string, any> = {};
      try {
        report = JSON.parse(last) as Record<string, any>;
      } catch {
        // left empty: the assertions below say what was printed
      }
      resolve({ code, report, stdout, stderr });
    });
  });
}
