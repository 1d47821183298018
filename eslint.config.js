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
  // One choke point per outside dependency: one module spawns processes, one talks to Docker, and
  // only adapters read tar. Flat config replaces (not merges) a rule per file, so each group of
  // files gets the whole list of what it may not import.
  ...restrictedImports(),
  {
    // The core is pure: values in, values out. I/O lives in src/adapters only.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:fs', 'node:fs/*', 'fs', 'fs/*', 'node:child_process', 'child_process'], message: 'core is pure: do I/O in src/adapters' },
            { group: ['execa', 'dockerode', 'docker-modem', 'tar-stream', '**/adapters/**'], message: 'core is pure: do I/O in src/adapters' },
          ],
        },
      ],
    },
  },
);

function restrictedImports() {
  const spawn = 'spawn processes through src/adapters/process.ts';
  const docker = 'talk to the engine through src/adapters/docker.ts (a ContainerEngine)';
  const tar = 'read and write tar in src/adapters only';
  // A name and its subpaths (dockerode/lib/...), so a deep import cannot slip past.
  const rule = (names, extra = []) => ({ 'no-restricted-imports': ['error', { patterns: [...names.map(([name, message]) => ({ group: [name, `${name}/*`], message })), ...extra] }] });
  const fsDirect = [['node:fs', 'touch files through src/adapters/fs.ts'], ['fs', 'touch files through src/adapters/fs.ts']];
  // Commands parse flags and print; renderers turn values into text: neither does I/O of its own.
  const noAdapters = [{ group: ['**/adapters/**'], message: 'commands and renderers hold values: reach adapters through a service' }];
  const spawning = [['execa', spawn], ['node:child_process', spawn], ['child_process', spawn]];
  const dockering = [['dockerode', docker], ['docker-modem', docker]];
  return [
    { files: ['src/**/*.ts'], ignores: ['src/adapters/**', 'src/services/**', 'src/commands/**', 'src/render/**'], rules: rule([...spawning, ...dockering, ['tar-stream', tar]]) },
    { files: ['src/services/**/*.ts'], rules: rule([...spawning, ...dockering, ['tar-stream', tar], ...fsDirect]) },
    { files: ['src/commands/**/*.ts', 'src/render/**/*.ts'], rules: rule([...spawning, ...dockering, ['tar-stream', tar], ...fsDirect], noAdapters) },
    { files: ['src/adapters/**/*.ts'], ignores: ['src/adapters/process.ts', 'src/adapters/docker.ts'], rules: rule([...spawning, ...dockering]) },
    { files: ['src/adapters/process.ts'], rules: rule(dockering) },
    { files: ['src/adapters/docker.ts'], rules: rule(spawning) },
  ];
}
