import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { globSync } from 'tinyglobby';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('what is published, and the scripts operators run', () => {
  const ignore = read('.funcignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const pkg = JSON.parse(read('package.json')) as {
    main: string;
    engines: { node: string };
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };

  it('anchors every .funcignore pattern (Core Tools matches a bare name at the top level only) and keeps what runs', () => {
    for (const p of ignore) expect(p, p).toMatch(/^(\/|\*\*\/)/);
    expect(pkg.main).toBe('dist/functions/*.js');
    for (const kept of ['dist', 'dist/functions', 'dist/shared', 'node_modules', 'host.json', 'package.json', 'subscriptions.json', 'routes.json']) {
      expect(
        ignore.filter((p) => [`/${kept}`, `/${kept}/`].includes(p)),
        kept,
      ).toEqual([]);
    }
    for (const left of ['**/*.ts', '**/*.map', '/local.settings.json', '/test/', '/cli/', '/scripts/', '/dev/', '/dist/cli/', '/dist/scripts/', '/dist/dev/', '/dist/bench/', '/infra/', '/.local/'])
      expect(ignore).toContain(left);
  });

  it('runs the operator CLIs from built JavaScript: no tsc, no devDependency at run time', () => {
    expect(pkg.scripts.subscriptions).toBe('node dist/cli/subscriptions.js');
    expect(pkg.scripts.replay).toBe('node dist/cli/replay.js');
    expect(pkg.scripts.package).toBe('npm run build --silent && node dist/scripts/package-app.js');
  });

  it('targets Node 22, the runtime deployed', () => {
    expect(pkg.engines.node).toBe('>=22.0.0');
    expect(pkg.devDependencies['@types/node']).toMatch(/^\^22\./);
  });

  it('keeps every package the deployed code imports a production dependency, and nothing else (node-forge is a test tool)', () => {
    const imported = new Set<string>();
    for (const file of globSync(['functions/**/*.ts', 'shared/**/*.ts'], { cwd: fileURLToPath(new URL('../../', import.meta.url)) })) {
      for (const [, spec = ''] of read(file).matchAll(/^(?:import|export)\s[^'"]*?from\s+'([^'.][^']*)'/gm)) {
        if (spec.startsWith('node:')) continue;
        imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    expect(imported.size).toBeGreaterThan(5);
    for (const dep of imported) expect(Object.keys(pkg.dependencies), dep).toContain(dep);
    expect(imported).not.toContain('node-forge');
    expect(Object.keys(pkg.dependencies)).not.toContain('node-forge');
  });
});
