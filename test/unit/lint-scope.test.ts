import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { getFileInfo } from 'prettier';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Paths that `npm run package`, `npm start`, azd and the build leave in a clone: none of them is ours. */
const GENERATED = [
  '.local/package/app/dist/functions/receive-notifications.js',
  '.local/package/app/dist/shared/route/notification-processor.js',
  '.local/package/app/host.json',
  '.local/azurite/__queuestorage__/x.ts',
  'dist/functions/status.js',
  '.azure/dev/env.ts',
  'coverage/lcov-report/sorter.js',
  'infra/tools/obj/project.assets.js',
];

describe('nothing generated or local is linted', () => {
  it('ESLint and Prettier ignore what the package, the local run, azd and the build write', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    for (const path of GENERATED) {
      expect({ path, eslintIgnored: await eslint.isPathIgnored(path) }).toEqual({ path, eslintIgnored: true });
      expect({ path, prettierIgnored: (await getFileInfo(`${ROOT}${path}`, { ignorePath: `${ROOT}.prettierignore` })).ignored }).toEqual({ path, prettierIgnored: true });
    }
  });

  it("Prettier leaves the operator's own files alone: local settings and the desired subscriptions they copied and edited", async () => {
    for (const path of ['local.settings.json', 'subscriptions.json'])
      expect({ path, ignored: (await getFileInfo(`${ROOT}${path}`, { ignorePath: `${ROOT}.prettierignore` })).ignored }).toEqual({ path, ignored: true });
    expect((await getFileInfo(`${ROOT}subscriptions.example.json`, { ignorePath: `${ROOT}.prettierignore` })).ignored).toBe(false);
  });

  it('while the code we write is linted', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    for (const path of ['functions/status.ts', 'shared/log.ts', 'scripts/package-app.ts', 'test/unit/lint-scope.test.ts', 'eslint.config.js'])
      expect({ path, ignored: await eslint.isPathIgnored(path) }).toEqual({ path, ignored: false });
  });
});
