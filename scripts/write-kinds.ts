#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { infraKinds } from '../shared/kinds/teams-kinds.js';

/**
 * `npm run kinds:write`: writes infra/teams-kinds.json (the default queue of each Teams kind, which Bicep
 * creates) from shared/kinds/teams-kinds.ts, after a kind is added or a default queue renamed. Bicep cannot
 * import TypeScript, and the package ships only JavaScript: the JSON is derived, the table is the source
 * (test/unit/kind-registry.test.ts fails while they differ).
 */
/** Where Bicep reads it, from the repository's root (npm runs scripts there). */
export const INFRA_KINDS_FILE = join(process.cwd(), 'infra', 'teams-kinds.json');
export const infraKindsJson = () => `${JSON.stringify(infraKinds(), null, 2)}\n`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(INFRA_KINDS_FILE, infraKindsJson());
  process.stdout.write(`wrote ${INFRA_KINDS_FILE}\n`);
}
