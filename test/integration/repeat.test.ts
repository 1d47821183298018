// capture --repeat on the reproducibility article's recipe (examples/seed-recipe, real TF 2.21,
// Keras 3.15 and scikit-learn): the classic np.random.seed + tf.random.set_seed is not
// reproducible under Keras 3, the runs part at the initial weights, the Keras 3 / Python random
// rule explains it and --explain proves the fix; keras.utils.set_random_seed is deterministic;
// seeding nothing is "no seed call". And a replay whose split changed names the data at fit.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { articlePython, cleanEnv, repoRoot, runCli } from '../helpers/cli.js';
import { servePackageIndex } from '../helpers/docker.js';

describe('capture --repeat on the article recipe', () => {
  let work: string;
  const env = () => cleanEnv({ PYTHONHASHSEED: '0', TF_ENABLE_ONEDNN_OPTS: '0', TF_CPP_MIN_LOG_LEVEL: '2' });
  const project = (name: string) => {
    const dir = join(work, name);
    cpSync(join(repoRoot, 'examples', 'seed-recipe'), dir, { recursive: true });
    writeFileSync(join(dir, '.gitignore'), 'out/\n');
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args]);
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'recipe');
    return { dir, git };
  };
  const capture = (dir: string, command: string, extra: string[]) => runCli(['capture', '--python', articlePython, '--run', command, '--outputs', 'out', '--json', ...extra], { cwd: dir, env: env(), timeoutMs: 600_000 });

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'snapshot-repeat-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('the classic recipe: nondeterministic, parted at the initial weights, explained and fixed by keras.utils.set_random_seed', async () => {
    const { dir } = project('classic');
    const r = await capture(dir, 'python train.py --out out --epochs 3', ['--repeat', '2', '--explain', '--explain-budget', '2']);
    expect(r.exitCode).toBe(0);
    const run = r.json.result.run;
    expect(run.record.seeds.map((s: { call: string }) => s.call)).toEqual(['numpy.random.seed', 'tf.random.set_seed', 'numpy.random.seed']);
    expect(run.repeat.verdict).toBe('nondeterministic');
    expect(run.repeat.divergence.stage).toBe('initial_weights');
    expect(run.repeat.explained_by).toContain('KERAS3_PYTHON_RANDOM_UNSEEDED');
    expect(r.json.result.determinism.findings.map((f: { code: string }) => f.code)).toContain('KERAS3_PYTHON_RANDOM_UNSEEDED');
    expect(run.repeat.explain.tried[0]).toMatchObject({ code: 'KERAS3_PYTHON_RANDOM_UNSEEDED', identical: true });
    expect(run.repeat.explain.fixed_by).toBe('adding `keras.utils.set_random_seed(42)` where you call `tf.random.set_seed(42)` made two runs bit-identical');
    // The user's outputs folder is the first run's, as the baseline kept it.
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['metrics.json', 'model.h5', 'model.keras', 'predictions.npy']);
    const shown = await runCli(['show', 'snapshot.yaml'], { cwd: dir, env: env() });
    expect(shown.stdout).toContain('Fixed by');
  }, 900_000);

  it('with the fix: deterministic', async () => {
    const { dir } = project('fixed');
    const r = await capture(dir, 'python train.py --out out --epochs 3 --keras-seed', ['--repeat', '2']);
    expect(r.exitCode).toBe(0);
    expect(r.json.result.run.repeat).toMatchObject({ verdict: 'deterministic', moved: [], divergence: null });
    expect(r.json.result.run.record.seeds).toContainEqual(expect.objectContaining({ call: 'keras.utils.set_random_seed', args: [42], via: null }));
  }, 900_000);

  it('seeding nothing: nondeterministic, "no seed call" the cause', async () => {
    const { dir } = project('unseeded');
    const r = await capture(dir, 'python train.py --out out --epochs 2 --no-seed', ['--repeat', '2']);
    expect(r.exitCode).toBe(0);
    expect(r.json.result.run.repeat.verdict).toBe('nondeterministic');
    expect(r.json.result.run.repeat.explained_by).toContain('NO_SEED_CALL');
  }, 900_000);

  it('a seeded tf.data pipeline: deterministic, its element spec and cardinality recorded', async () => {
    const dir = join(work, 'tfdata');
    mkdirSync(dir);
    writeFileSync(join(dir, 'train.py'), [
      'import json, os, keras, numpy as np, tensorflow as tf',
      'keras.utils.set_random_seed(7)',
      'x = np.random.default_rng(7).standard_normal((256, 8)).astype("float32")',
      'y = (x.sum(axis=1) > 0).astype("float32")',
      'ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(256, seed=7).batch(32)',
      'model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])',
      'model.compile(optimizer="adam", loss="binary_crossentropy")',
      'history = model.fit(ds, epochs=3, verbose=0)',
      'os.makedirs("out", exist_ok=True)',
      'json.dump({"loss": [float(v) for v in history.history["loss"]]}, open("out/metrics.json", "w"))',
      'model.save_weights("out/model.weights.h5")',
      '',
    ].join('\n'));
    const r = await runCli(['capture', '--python', articlePython, '--run', 'python train.py', '--outputs', 'out', '--repeat', '2', '--json'], { cwd: dir, env: env(), timeoutMs: 600_000 });
    expect(r.exitCode).toBe(0);
    expect(r.json.result.run.repeat).toMatchObject({ verdict: 'deterministic', moved: [] });
    const fit = r.json.result.run.record.fits[0];
    expect(fit.data.x).toMatchObject({ kind: 'dataset', cardinality: 8 });
    expect(fit.data.x.element_spec).toMatch(/TensorSpec\(shape=\(None, 8\), dtype=tf\.float32/);
    expect(r.json.result.run.record.seeds).toContainEqual(expect.objectContaining({ call: 'keras.utils.set_random_seed', args: [7] }));
  }, 900_000);

  it('a replay whose data split changed (another random_state) names the data digest at fit first', async () => {
    const { dir, git } = project('split');
    const r = await capture(dir, 'python train.py --out out --epochs 2 --keras-seed --split-seed 42', []);
    expect(r.exitCode).toBe(0);
    git('add', 'snapshot.yaml', 'snapshot.bundle');
    git('commit', '-qm', 'snapshot');
    // The same raw files, split with another random_state: the replayed command says so.
    const path = join(dir, 'snapshot.yaml');
    writeFileSync(path, readFileSync(path, 'utf8').replace('--split-seed 42', '--split-seed 7'));
    const index = await servePackageIndex();
    try {
      const replay = await runCli(['replay', 'snapshot.yaml', '--engine', 'local', '--pip-index-url', index.url, '--json'], { cwd: dir, env: cleanEnv({ XDG_CACHE_HOME: join(work, 'cache') }), timeoutMs: 900_000 });
      expect(replay.json.result.verdict).toBe('different');
      expect(replay.json.result.causes[0].field).toMatch(/^run\.record\.fits\.0\.data\./);
    } finally {
      await index.close();
    }
  }, 900_000);
});
