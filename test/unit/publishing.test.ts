import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('what func azure functionapp publish takes', () => {
  const ignore = read('.funcignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const pkg = JSON.parse(read('package.json')) as { main: string; dependencies: Record<string, string> };

  it("points package.json main at the built function files, which .funcignore keeps", () => {
    expect(pkg.main).toBe('dist/functions/*.js');
    for (const kept of ['dist/', 'dist/functions/', 'node_modules/', 'host.json', 'package.json', 'subscriptions.json']) {
      expect(ignore.some((p) => p === kept || p === kept.replace(/\/$/, ''))).toBe(false);
    }
  });

  it('leaves out sources, tests, local settings and tooling', () => {
    for (const left of ['*.ts', 'local.settings.json', 'test/', 'tools/', 'dist/tools/', 'dist/bench/', 'infra/', '.local/']) expect(ignore).toContain(left);
  });

  it('keeps every runtime dependency a production dependency', () => {
    for (const dep of ['@azure/functions', '@azure/storage-queue', '@azure/storage-blob', '@azure/data-tables', '@azure/identity', '@azure/keyvault-certificates', '@azure/keyvault-secrets', 'jose', 'zod', 'node-forge', '@peculiar/x509']) {
      expect(Object.keys(pkg.dependencies)).toContain(dep);
    }
  });
});
