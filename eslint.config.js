import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // One process-spawning choke point.
    files: ['src/**/*.ts'],
    ignores: ['src/adapters/process.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'execa', message: 'spawn processes through src/adapters/process.ts' }, { name: 'node:child_process', message: 'spawn processes through src/adapters/process.ts' }] },
      ],
    },
  },
  {
    // The core is pure: values in, values out. I/O lives in src/adapters only.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:fs', 'node:fs/*', 'fs', 'fs/*', 'node:child_process', 'child_process'], message: 'core is pure: do I/O in src/adapters' },
            { group: ['execa', 'dockerode', 'tar-stream', '**/adapters/**'], message: 'core is pure: do I/O in src/adapters' },
          ],
        },
      ],
    },
  },
);
