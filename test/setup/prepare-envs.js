// Creates the real Python environments the tests run against, once, under .cache/envs.
// Reused when already there; honours PIP_INDEX_URL (a company mirror), and otherwise uses
// this machine's local index alone so pip never waits on an unreachable default index.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPython } from './pythons.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const envsDir = join(root, '.cache', 'envs');

export const TF_ENV = {
  name: 'tf221',
  python: '3.11',
  packages: ['tensorflow-cpu==2.21.0', 'keras==3.15.1', 'h5py'],
};

/** Keras 3 on JAX alone (no TensorFlow): the image must resolve the backend keras.json names. */
export const KERAS_JAX_ENV = {
  name: 'keras-jax',
  python: '3.11',
  packages: ['keras==3.15.1', 'jax==0.10.2', 'jaxlib==0.10.2'],
};

/** The reproducibility article's recipe needs scikit-learn (its breast-cancer data) beside TF and Keras. */
export const ARTICLE_ENV = {
  name: 'tf221-sklearn',
  python: '3.11',
  packages: ['tensorflow-cpu==2.21.0', 'keras==3.15.1', 'h5py', 'scikit-learn'],
};

function indexArgs() {
  if (process.env.PIP_INDEX_URL) return [];
  const local = ['/opt/pypi/simple', '/opt/pypi-more/simple'].filter((p) => existsSync(p));
  if (local.length === 0) return [];
  const [first, ...rest] = local;
  return ['--index-url', `file://${first}`, ...rest.flatMap((p) => ['--extra-index-url', `file://${p}`])];
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with ${r.status ?? r.signal}`);
}

export function ensureEnv(spec) {
  const dir = join(envsDir, spec.name);
  const stamp = join(dir, '.snapshot-test-env');
  const want = JSON.stringify(spec);
  if (existsSync(stamp)) return join(dir, 'bin', 'python');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(envsDir, { recursive: true });
  process.stderr.write(`[test setup] creating ${dir} (${spec.packages.join(' ')})\n`);
  const python = findPython(spec.python);
  if (python === null) throw new Error(`no Python ${spec.python} on this machine (pyenv or PATH): install it to build ${dir}`);
  run(python, ['-m', 'venv', dir]);
  run(join(dir, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', ...indexArgs(), ...spec.packages]);
  writeFileSync(stamp, want);
  return join(dir, 'bin', 'python');
}

export function prepareAll() {
  return { tf: ensureEnv(TF_ENV), kerasJax: ensureEnv(KERAS_JAX_ENV), article: ensureEnv(ARTICLE_ENV) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const made = prepareAll();
  process.stdout.write(`${JSON.stringify(made)}\n`);
}
