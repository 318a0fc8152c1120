import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the parts of `npm run bench` leave their figures for the summary line (one run at a time). */
const FILE = process.env.BENCH_FIGURES_FILE ?? join(tmpdir(), 'teams-change-relay-bench-figures.json');

export function readFigures(): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Adds figures to this run's; `fresh` starts a new run. */
export function recordFigures(figures: Record<string, unknown>, fresh = false): void {
  writeFileSync(FILE, JSON.stringify({ ...(fresh ? {} : readFigures()), ...figures }));
}
