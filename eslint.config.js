// Lint: typescript-eslint's type-aware recommended rules over the app, its operator CLIs, build scripts and development harness, benchmarks and tests.
// Formatting is Prettier's (`prettier --check` in `npm run lint`), so no stylistic rules here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // What git ignores (build output, the staged package and Azurite data under .local/, azd's .azure/) is
  // generated or local, never ours to lint; test/fixtures/ holds others' files kept as they are.
  { ignores: ['**/dist/**', '**/node_modules/**', '.local/**', '.azure/**', 'coverage/**', 'test-results/**', 'infra/tools/obj/**', 'infra/tools/bin/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: ['./test/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Interfaces (seams) are often implemented by methods that need no await; an async signature keeps the contract.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests read untyped JSON (queue messages, HTTP bodies) on purpose and assert its shape.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off', // such JSON is typed Record<string, any> so assertions can reach into it
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
