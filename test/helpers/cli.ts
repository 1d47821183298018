// Runs the built CLI (bin/run.js over dist/) as a user would, and parses its JSON envelope.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../../src/adapters/process.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const binRun = join(repoRoot, 'bin', 'run.js');
export const tfPython = join(repoRoot, '.cache', 'envs', 'tf221', 'bin', 'python');
export const kerasJaxPython = join(repoRoot, '.cache', 'envs', 'keras-jax', 'bin', 'python');
/** TF 2.21, Keras 3.15 and scikit-learn: the reproducibility article's recipe. */
export const articlePython = join(repoRoot, '.cache', 'envs', 'tf221-sklearn', 'bin', 'python');
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

export interface StartedCli {
  pid: number;
  /** Resolves once stderr has matched the pattern (no time limit: the test's own timeout bounds it). */
  stderrMatches(pattern: RegExp): Promise<void>;
  signal(name: NodeJS.Signals): void;
  exited: Promise<{ exitCode: number | null; signal: string | null; stdout: string; stderr: string }>;
}

const started = new Set<ChildProcess>();

/** Kills every CLI startCli began that is still running: call it in afterAll, so a failed test leaves nothing behind. */
export function killStartedClis(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  started.clear();
}

/** Starts the built CLI without waiting for it, for tests that act while it runs (signals). */
export function startCli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): StartedCli {
  const env = { ...process.env, ...options.env };
  for (const [key, value] of Object.entries(options.env ?? {})) if (value === undefined) delete env[key];
  const child = spawn(process.execPath, [binRun, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const waiter of waiters.filter((w) => w.pattern.test(stderr))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  const exited = new Promise<{ exitCode: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (exitCode, signal) => resolve({ exitCode, signal, stdout, stderr }));
  });
  return {
    pid: child.pid ?? -1,
    stderrMatches: (pattern) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(stderr)) return resolve();
        waiters.push({ pattern, resolve });
        void exited.then((r) => reject(new Error(`the CLI exited (${r.exitCode ?? r.signal}) before stderr matched ${pattern}:\n${r.stderr}`)));
      }),
    signal: (name) => child.kill(name),
    exited,
  };
}
