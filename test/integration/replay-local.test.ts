// snapshot replay --engine local for real: the seeded Keras example captured on the TF venv,
// committed, cloned elsewhere, and replayed in a venv rebuilt from the loopback package index
// (this machine's default index does not answer: the index is passed as a user behind a mirror
// would). One cached venv is shared by the tests (a TF install takes ~40 s); the killed-build test
// builds its own, in a cache of its own.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { schemaProblems } from '../../src/adapters/json-schema.js';
import { cleanEnv, repoRoot, runCli } from '../helpers/cli.js';
import { servePackageIndex } from '../helpers/docker.js';
import { captureThenClone } from '../helpers/replay-fixture.js';

describe('snapshot replay --engine local', () => {
  let work: string;
  let clone: string;
  let cache: string;
  let index: Awaited<ReturnType<typeof servePackageIndex>>;
  let first: Awaited<ReturnType<typeof runCli>>;
  const env = (extra: NodeJS.ProcessEnv = {}) => cleanEnv({ XDG_CACHE_HOME: cache, ...extra });
  const replay = (extra: string[], options: { env?: NodeJS.ProcessEnv; index?: string } = {}) =>
    runCli(['replay', 'snapshot.yaml', '--engine', 'local', '--pip-index-url', options.index ?? index.url, '--json', ...extra], { cwd: clone, env: options.env ?? env(), timeoutMs: 600_000 });
  /** Runs `body` with the clone's snapshot edited, and puts it back after. */
  const withSnapshot = async <T>(edit: (doc: Record<string, any>) => void, body: () => Promise<T>): Promise<T> => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const path = join(clone, 'snapshot.yaml');
    const original = readFileSync(path, 'utf8');
    const doc = YAML.parse(original);
    edit(doc);
    writeFileSync(path, YAML.stringify(doc));
    try {
      return await body();
    } finally {
      writeFileSync(path, original);
    }
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'snapshot-replay-local-'));
    cache = join(work, 'cache');
    ({ clone } = await captureThenClone(work));
    index = await servePackageIndex();
    first = await replay([]);
  }, 900_000);

  afterAll(async () => {
    await index?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('rebuilds the environment in a cached venv and reproduces the baseline: identical', () => {
    expect(first.exitCode).toBe(0);
    const report = first.json.result;
    expect(report).toMatchObject({ verdict: 'identical', exit_code: 0, engine: { kind: 'local', reason: '--engine local' }, failure: null });
    expect(report.compare.summary).toMatchObject({ outputs: 4, identical: 4 });
    expect(report.environment.facts).toMatchObject({ venv_reused: false, python_version: '3.11.7', python_exact: true });
    expect(report.environment.facts.venv.startsWith(join(cache, 'snapshot', 'venvs'))).toBe(true);
    expect(first.stderr).toContain('creating the environment with');
    // The code ran from an export in the replay's own folder, never from the clone.
    expect(report.run.workdir).toBe(join(report.folder, 'code'));
    expect(report.data.records).toEqual([expect.objectContaining({ path: 'data', status: 'verified', how: 'in the repository' })]);
    expect(report.data.modified_by_run).toEqual([]);
    expect(report.differences.filter((d: { severity: string }) => d.severity === 'high')).toEqual([]);
    const replayed = YAML.parse(readFileSync(join(report.folder, 'environment.yaml'), 'utf8'));
    expect(replayed.frameworks.tensorflow.version).toBe('2.21.0');
    expect(schemaProblems(join(repoRoot, 'schemas', 'replay-report.schema.json'), report)).toEqual([]);
    // The baseline's saved model, reloaded at capture and again here without retraining.
    const captured = YAML.parse(readFileSync(join(clone, 'snapshot.yaml'), 'utf8'));
    expect(captured.run.reload.models).toEqual([expect.objectContaining({ path: 'model.keras', format: 'keras', status: 'ok', inputs: [{ name: expect.any(String), shape: [4, 4], dtype: 'float32' }] })]);
    expect(existsSync(join(clone, captured.run.reload.models[0].predictions))).toBe(true);
    expect(report.reload).toMatchObject({ status: 'checked', models: [{ path: 'model.keras', format: 'keras', status: 'identical' }] });
    expect(report.reload.import_ms).toBeGreaterThan(0);
    expect(report.durations.reload_ms).toBeGreaterThan(0);
    // The clone's working tree is as it was: nothing written into it but the replay's folder.
    expect(execFileSync('git', ['-C', clone, 'status', '--porcelain'], { encoding: 'utf8' }).split('\n').filter((l) => l && !l.includes('snapshot.replays'))).toEqual([]);
  });

  it('a second replay reuses the venv (and says so); a host with oneDNN on, a keras.json for another backend and a PYTHONPATH still gives identical', async () => {
    const home = join(work, 'home');
    mkdirSync(join(home, '.keras'), { recursive: true });
    writeFileSync(join(home, '.keras', 'keras.json'), '{"backend": "jax", "floatx": "float16", "epsilon": 1e-3}\n');
    // A PYTHONPATH that changes the result if it leaks into the training: its keras shadows Keras.
    const shadow = join(work, 'shadow');
    mkdirSync(shadow, { recursive: true });
    writeFileSync(join(shadow, 'keras.py'), 'raise SystemExit("keras shadowed: the host PYTHONPATH leaked into the replay")\n');
    const r = await replay([], { env: env({ HOME: home, TF_ENABLE_ONEDNN_OPTS: '1', PYTHONPATH: shadow, OMP_NUM_THREADS: '1' }) });
    expect(r.stderr).not.toContain('keras shadowed');
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/reusing the cached environment .*snapshot\/venvs\/[0-9a-f]{32}/);
    expect(r.stderr).not.toContain('installing the pinned requirements');
    expect(r.json.result.environment.facts.venv_reused).toBe(true);
    expect(r.json.result.verdict).toBe('identical');
    expect(r.json.result.environment.env.TF_ENABLE_ONEDNN_OPTS).toBe('0');
  });

  it('another seed through --env: different', async () => {
    const r = await replay(['--env', 'SEED=7']);
    expect(r.exitCode).toBe(1);
    expect(r.json.result.verdict).toBe('different');
    // Retraining does not reproduce; the saved model still does, apart from it.
    expect(r.json.result.reload).toMatchObject({ status: 'checked', models: [{ path: 'model.keras', status: 'identical' }] });
  });

  it("the baseline's saved model changed since capture: the reload says so, rather than blaming this environment, and nothing crashes", async () => {
    const captured = YAML.parse(readFileSync(join(clone, 'snapshot.yaml'), 'utf8'));
    const model = join(clone, captured.run.baseline.dir, 'model.keras');
    const original = readFileSync(model);
    writeFileSync(model, original.subarray(0, original.length >> 1));
    try {
      const r = await replay([]);
      expect(r.json.result.reload).toMatchObject({ status: 'checked', models: [{ path: 'model.keras', status: 'error' }] });
      expect(r.json.result.reload.models[0].message).toMatch(/not reloaded: the baseline's model\.keras has changed since capture/);
      expect(r.json.result.warnings.join('\n')).toContain('baseline model.keras has changed since capture');
      expect(r.stderr).not.toMatch(/Traceback|at .*\.js:\d+/);
    } finally {
      writeFileSync(model, original);
    }
  });

  it('a snapshot whose reload check names a model outside its baseline is refused before anything is built', async () => {
    const r = await withSnapshot((doc) => (doc.run.reload.models[0].path = '../../../../etc/hostname'), () => replay([]));
    expect(r.exitCode).toBe(3);
    expect(r.json.error.code).toBe('UNSAFE_SNAPSHOT_VALUE');
    expect(r.json.error.message).toContain('run.reload.models[0].path');
    expect(r.stderr).not.toContain('creating the environment');
  });

  it('--engine auto with no Docker engine answering replays locally, and says why', async () => {
    const r = await runCli(['replay', 'snapshot.yaml', '--pip-index-url', index.url, '--no-reload', '--json'], { cwd: clone, env: env({ DOCKER_HOST: `unix://${join(work, 'no-engine.sock')}` }), timeoutMs: 600_000 });
    expect(r.exitCode).toBe(0);
    expect(r.json.result.engine.kind).toBe('local');
    expect(r.json.result.engine.reason).toMatch(/^--engine auto: no Docker engine answers .*rebuilt in a venv on this host$/);
    expect(r.stderr).toContain('"type":"engine"');
    expect(r.json.result.reload).toMatchObject({ status: 'skipped', message: expect.stringContaining('--no-reload'), models: [] });
  });

  it('a data file changed after capture: error (7) naming it, and the training never ran', async () => {
    const file = readdirSync(join(clone, 'data')).sort()[0] as string;
    const path = join(clone, 'data', file);
    const original = readFileSync(path);
    writeFileSync(path, Buffer.concat([original, Buffer.from('x')]));
    try {
      const r = await replay([]);
      expect(r.exitCode).toBe(7);
      expect(r.json.result.failure).toMatchObject({ stage: 'verify-data', code: 'DATA_MISMATCH' });
      expect(r.json.result.failure.message).toContain(file);
      expect(r.json.result.run).toBeNull();
    } finally {
      writeFileSync(path, original);
    }
  });

  it('no Python of the captured minor on this host: a clear error (6) naming what to install', async () => {
    const r = await withSnapshot((doc) => (doc.python.version = '3.14.2'), () => replay([]));
    expect(r.exitCode).toBe(6);
    expect(r.json.result.failure).toMatchObject({ stage: 'doctor', kind: 'could-not-run', code: 'PYTHON_MINOR_MISSING' });
    expect(r.json.result.failure.message).toMatch(/no CPython 3\.14 on this host/);
    expect(r.json.result.failure.hint).toContain('pyenv install 3.14.2');
  });

  it('the captured patch release missing, another of its minor here: a high-severity difference, or an error with --exact-python', async () => {
    const r = await withSnapshot((doc) => (doc.python.version = '3.11.5'), () => replay([]));
    expect(r.json.result.doctor).toContainEqual(expect.objectContaining({ name: 'python', status: 'warn' }));
    expect(r.json.result.differences).toContainEqual(expect.objectContaining({ field: 'python.version', severity: 'high', baseline: '3.11.5', replay: '3.11.7' }));
    expect(r.json.result.environment.facts).toMatchObject({ python_version: '3.11.7', python_exact: false });
    const exact = await withSnapshot((doc) => (doc.python.version = '3.11.5'), () => replay(['--exact-python']));
    expect(exact.exitCode).toBe(6);
    expect(exact.json.result.failure).toMatchObject({ code: 'PYTHON_EXACT_MISSING' });
    expect(exact.json.result.failure.message).toContain('3.11.5');
  });

  it('an index that does not answer: a clear error (6) naming it, before pip runs', async () => {
    const dead = 'http://127.0.0.1:9/simple/';
    const r = await replay([], { env: env({ XDG_CACHE_HOME: join(work, 'cache-dead') }), index: dead });
    expect(r.exitCode).toBe(6);
    expect(r.json.result.failure).toMatchObject({ stage: 'prepare', code: 'PIP_INDEX_UNREACHABLE' });
    expect(r.json.result.failure.message).toContain(dead);
    expect(r.stderr).not.toContain('installing the pinned requirements');
    // Nothing half-built is left to be trusted.
    expect(readdirSync(join(work, 'cache-dead', 'snapshot', 'venvs'))).toEqual([]);
  });

  it('a staging folder left by a killed build is never reused: the venv is built afresh', async () => {
    const key: string = first.json.result.environment.facts.venv_key;
    const venvs = join(work, 'cache-killed', 'snapshot', 'venvs');
    // What a build killed half-way leaves: its staging folder, even one that looks whole.
    const stale = join(venvs, `.staging-${key}-${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}-4194000-deadbeef`);
    mkdirSync(join(stale, 'bin'), { recursive: true });
    writeFileSync(join(stale, 'bin', 'python'), '#!/bin/sh\nexit 1\n');
    chmodSync(join(stale, 'bin', 'python'), 0o755);
    writeFileSync(join(stale, '.snapshot-venv.json'), '{}\n');
    const r = await replay([], { env: env({ XDG_CACHE_HOME: join(work, 'cache-killed') }) });
    expect(r.exitCode).toBe(0);
    expect(r.json.result.verdict).toBe('identical');
    expect(r.json.result.environment.facts).toMatchObject({ venv_reused: false, venv: join(venvs, key) });
    expect(r.stderr).toContain('left by a build that did not finish');
    expect(existsSync(stale)).toBe(false);
  }, 900_000);
});
