// Runs the built CLI (bin/run.js over dist/) as a user would, and parses its JSON envelope.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../../src/adapters/process.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const binRun = join(repoRoot, 'bin', 'run.js');
export const tfPython = join(repoRoot, '.cache', 'envs', 'tf221', 'bin', 'python');
export const fakeBin = (name: string) => join(repoRoot, 'test', 'fixtures', 'fake-bin', name);

export interface CliResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** The parsed stdout when it is JSON, else undefined. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function runCli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliResult> {
  if (!existsSync(join(repoRoot, 'dist', 'commands'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
  const env = { ...process.env, ...options.env };
  for (const [key, value] of Object.entries(options.env ?? {})) if (value === undefined) delete env[key];
  const result = await runProcess(process.execPath, [binRun, ...args], { cwd: options.cwd, env, timeoutMs: options.timeoutMs ?? 120_000 });
  let json: unknown;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    json = undefined;
  }
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, json };
}

/** The environment without an active venv/conda env, so --python decides. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { VIRTUAL_ENV: undefined, CONDA_PREFIX: undefined, KERAS_BACKEND: undefined, KERAS_HOME: undefined, ...extra };
}
