// The training recorder (python/snapshot_recorder), run for real: Python's own start-up imports
// its sitecustomize from PYTHONPATH, in the TensorFlow 2.21 + Keras 3.15 venv, the Keras-on-JAX
// venv and the oldest interpreter the tool supports. Each case runs a training as a user would
// and reads the record it left (RunRecording, src/core/recording.ts).
//
// The local package index holds only Keras 3 and TensorFlow 2.21, so the Keras 2 (tf_keras) and
// torch hooks run against small fake packages written here and put on PYTHONPATH: they have the
// real modules' layout (tf_keras.src.engine.training.Model with Keras 2's fit signature,
// torch.random.manual_seed calling torch.cuda.manual_seed_all, torch.backends.cudnn) and no
// numerics of their own.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runProcess, type ProcessResult } from '../../src/adapters/process.js';
import type { DataDigest, RecordedFit, RunRecording } from '../../src/core/recording.js';
import { kerasJaxPython, repoRoot, tfPython } from '../helpers/cli.js';
import { readRecording } from '../../src/adapters/probes/recorder.js';
import { describeIf, requirePython } from '../helpers/pythons.js';

const RECORDER = join(repoRoot, 'python', 'snapshot_recorder');
const python36 = requirePython('3.6', 'the recorder on the oldest supported interpreter');
const TRAINING_TIMEOUT_MS = 170_000;

const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `snapshot-recorder-${prefix}-`)));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function writeFiles(root: string, files: Record<string, string>): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

interface Run {
  /** The record's path, or null to run without the recorder. */
  record: string | null;
  /** Folders after the recorder's on PYTHONPATH (fake packages, another sitecustomize). */
  pythonPath?: string[];
  env?: Record<string, string>;
}

/** Runs python with a clean environment (no Keras/TF switches, an empty KERAS_HOME), the recorder first on PYTHONPATH when `record` is set. */
async function runPython(python: string, args: string[], cwd: string, run: Run): Promise<ProcessResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'VIRTUAL_ENV', 'CONDA_PREFIX', 'KERAS_BACKEND', 'TF_USE_LEGACY_KERAS', 'SNAPSHOT_RECORD_FILE', 'SNAPSHOT_RECORD_ALSO_SEED']) {
    delete env[key];
  }
  Object.assign(env, { KERAS_HOME: tempDir('keras-home'), TF_CPP_MIN_LOG_LEVEL: '2', TF_ENABLE_ONEDNN_OPTS: '0', PYTHONHASHSEED: '0' }, run.env);
  const path = [...(run.record === null ? [] : [RECORDER]), ...(run.pythonPath ?? [])];
  if (path.length > 0) env.PYTHONPATH = path.join(':');
  if (run.record !== null) env.SNAPSHOT_RECORD_FILE = run.record;
  return runProcess(python, args, { cwd, env, timeoutMs: TRAINING_TIMEOUT_MS });
}

function expectOk(r: ProcessResult): ProcessResult {
  if (r.outcome !== 'ok') throw new Error(`${r.reason}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** The record, with its shape checked against RunRecording key by key. */
function readRecord(path: string): RunRecording {
  const record = JSON.parse(readFileSync(path, 'utf8')) as RunRecording;
  expect(Object.keys(record).sort()).toEqual(['errors', 'fits', 'libraries', 'python', 'recorder', 'seeds', 'switches', 'tensorflow', 'torch'].sort());
  expect(record.recorder).toBe(1);
  for (const call of [...record.seeds, ...record.switches]) {
    expect(Object.keys(call).sort()).toEqual(['args', 'call', 'order', 'via']);
    expect(call.args.length).toBeLessThanOrEqual(8);
  }
  // One count over seeds and switches: 0, 1, 2, ... with no gaps.
  expect([...record.seeds, ...record.switches].map((c) => c.order).sort((a, b) => a - b)).toEqual([...Array(record.seeds.length + record.switches.length).keys()]);
  for (const fit of record.fits) {
    expect(Object.keys(fit).sort()).toEqual(
      ['api', 'batch_size', 'callbacks', 'class_weight', 'data', 'epochs', 'index', 'keras_version', 'backend', 'loss', 'metrics', 'model', 'optimizer', 'shuffle', 'validation_split'].sort(),
    );
    expect(Object.keys(fit.model).sort()).toEqual(['class', 'config_sha256', 'initial_weights_sha256', 'layers', 'name', 'params', 'trainable_params'].sort());
    expect(Object.keys(fit.data).sort()).toEqual(['sample_weight', 'validation', 'x', 'y']);
  }
  for (const e of record.errors) expect(Object.keys(e).sort()).toEqual(['message', 'where']);
  return record;
}

const calls = (list: RunRecording['seeds']) => list.map((c) => [c.call, c.args, c.via]);
const hex64 = /^[0-9a-f]{64}$/;

/** list[i], failing the test when it is not there. */
function at<T>(list: readonly T[] | undefined, i: number): T {
  const item = list?.[i];
  if (item === undefined) throw new Error(`no item ${i} in ${JSON.stringify(list)}`);
  return item;
}
/** The record a named run left. */
function recordOf(records: Record<string, RunRecording>, name: string): RunRecording {
  const record = records[name];
  if (record === undefined) throw new Error(`no record for ${name}`);
  return record;
}

function asArray(d: DataDigest): Extract<DataDigest, { kind: 'array' }> {
  expect(d.kind).toBe('array');
  return d as Extract<DataDigest, { kind: 'array' }>;
}

const NUMERICS = ['libcudnn', 'libcublas', 'libcublasLt', 'libnccl', 'libcudart', 'libcufft', 'libcurand', 'libcusolver', 'libcusparse', 'libnvrtc', 'libmkl', 'libdnnl', 'libopenblas', 'libgomp', 'libiomp5'];

describe('the keras-tiny example under the recorder (TF 2.21, Keras 3.15)', () => {
  let project: string;
  let record: RunRecording;
  const runs: Record<'recorded' | 'plain1' | 'plain2', ProcessResult> = {} as never;

  beforeAll(async () => {
    project = tempDir('keras-tiny');
    cpSync(join(repoRoot, 'examples', 'keras-tiny'), project, { recursive: true });
    const recordPath = join(project, 'record.json');
    const [recorded, plain1, plain2] = await Promise.all([
      runPython(tfPython, ['train.py', '--out', 'out-recorded'], project, { record: recordPath }),
      runPython(tfPython, ['train.py', '--out', 'out-plain1'], project, { record: null }),
      runPython(tfPython, ['train.py', '--out', 'out-plain2'], project, { record: null }),
    ]);
    Object.assign(runs, { recorded: expectOk(recorded), plain1: expectOk(plain1), plain2: expectOk(plain2) });
    record = readRecord(recordPath);
  });

  it('records the seed calls in order, the one fit with its model, parameters and data, and the state at exit', () => {
    expect(record.python).toMatch(/^3\.11\./);
    // keras.utils.set_random_seed seeds Python, numpy and TensorFlow itself; tf.random.set_seed's
    // own call to tf.compat.v1.set_random_seed is its implementation, not another seed.
    expect(calls(record.seeds)).toEqual([
      ['keras.utils.set_random_seed', [42], null],
      ['random.seed', [42], 'keras.utils.set_random_seed'],
      ['numpy.random.seed', [42], 'keras.utils.set_random_seed'],
      ['tf.random.set_seed', [42], 'keras.utils.set_random_seed'],
    ]);
    expect(record.seeds.map((c) => c.order)).toEqual([0, 1, 2, 3]);
    expect(record.switches).toEqual([{ call: 'tf.config.experimental.enable_op_determinism', args: [], order: 4, via: null }]);

    expect(record.fits).toHaveLength(1);
    const fit: RecordedFit = at(record.fits, 0);
    expect(fit).toMatchObject({ api: 'keras', keras_version: '3.15.1', backend: 'tensorflow', index: 0, epochs: 5, batch_size: 32, shuffle: true, validation_split: 0, class_weight: null, callbacks: [] });
    expect(fit.model.class).toBe('Sequential');
    expect(fit.model.layers.map((l) => [l.class, l.config.units, l.config.activation, l.params])).toEqual([
      ['Dense', 16, 'relu', 4 * 16 + 16],
      ['Dense', 8, 'relu', 16 * 8 + 8],
      ['Dense', 1, 'sigmoid', 8 + 1],
    ]);
    expect(at(fit.model.layers, 0).config.kernel_initializer).toEqual({ class: 'GlorotUniform', seed: null });
    expect(at(fit.model.layers, 0).config.dtype).toBe('float32');
    expect(fit.model.params).toBe(225);
    expect(fit.model.trainable_params).toBe(225);
    expect(fit.model.config_sha256).toMatch(hex64);
    expect(fit.model.initial_weights_sha256).toMatch(hex64);
    expect(fit.optimizer?.class).toBe('Adam');
    // Adam(0.01), read back from its float32 variable.
    expect(fit.optimizer?.config.learning_rate).toBeCloseTo(0.01, 6);
    expect(fit.loss).toBe('binary_crossentropy');
    expect(fit.metrics).toEqual(['accuracy']);
    const x = asArray(fit.data.x);
    expect(x).toMatchObject({ source: 'numpy', shape: [512, 4], dtype: 'float32', bytes: 512 * 4 * 4 });
    expect(x.sha256).toMatch(hex64);
    expect(asArray(fit.data.y)).toMatchObject({ source: 'numpy', shape: [512, 1], dtype: 'float32', bytes: 512 * 4 });
    expect(fit.data.validation).toEqual({ kind: 'none' });
    expect(fit.data.sample_weight).toEqual({ kind: 'none' });

    // TF_ENABLE_ONEDNN_OPTS=0 (runPython), op determinism switched on by the example.
    expect(record.tensorflow).toEqual({ onednn_enabled: false, op_determinism: true, tf32_enabled: true });
    expect(record.torch).toBeNull();
    expect(record.errors).toEqual([]);

    // Linux: /proc/self/maps is there. This host has no CUDA; numpy's wheel maps its OpenBLAS
    // (libscipy_openblas64_-*.so).
    expect(record.libraries).not.toBeNull();
    const libraries = record.libraries ?? [];
    for (const lib of libraries) {
      expect(NUMERICS).toContain(lib.name);
      expect(existsSync(lib.path)).toBe(true);
    }
    expect(libraries.filter((l) => /^lib(cu|nccl|nvrtc)/.test(l.name))).toEqual([]);
    expect(libraries.map((l) => l.name)).toContain('libopenblas');
    expect(new Set(libraries.map((l) => l.path)).size).toBe(libraries.length);
  });

  it('changes nothing the training writes: outputs byte-identical with and without it', () => {
    // model.keras is a zip stamped with the time it was written; the files inside it are the
    // same weights and config the other outputs hold, so it is left out.
    const outputs = ['metrics.json', 'predictions.npy', 'model.weights.h5'];
    const bytes = (dir: string, file: string) => readFileSync(join(project, dir, file));
    for (const file of outputs) {
      // Two runs without the recorder agree, or the comparison below would prove nothing.
      expect(bytes('out-plain1', file).equals(bytes('out-plain2', file))).toBe(true);
      expect(bytes('out-recorded', file).equals(bytes('out-plain1', file))).toBe(true);
    }
    // Keras's epoch lines carry timings ("16/16 - 0s - 14ms/step - ..."): the rest must agree.
    const untimed = (out: string) => out.replace(/\b\d+m?s(\/step)?\b/g, '');
    expect(untimed(runs.recorded.stdout)).toBe(untimed(runs.plain1.stdout));
  });
});

describe('the Keras 3 seed recipes (TF 2.21, Keras 3.15)', () => {
  const RECIPE = [
    'import sys',
    'import numpy as np',
    'import tensorflow as tf',
    'import keras',
    'if sys.argv[1] == "classic":',
    '    np.random.seed(42)',
    '    tf.random.set_seed(42)',
    'else:',
    '    keras.utils.set_random_seed(42)',
    'x = np.arange(64 * 3, dtype="float32").reshape(64, 3) / 100.0',
    'y = (x.sum(axis=1, keepdims=True) > 1.0).astype("float32")',
    'model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dropout(0.25), keras.layers.Dense(1)])',
    'model.compile(optimizer="sgd", loss="mse")',
    'model.fit(x, y, epochs=1, batch_size=16, verbose=0)',
    '',
  ].join('\n');
  const records: Record<string, RunRecording> = {};

  beforeAll(async () => {
    const dir = writeFiles(tempDir('recipes'), { 'recipe.py': RECIPE });
    const names = ['classic-1', 'classic-2', 'keras-1', 'keras-2'];
    // Two at a time: the machine has two cores.
    for (const pair of [names.slice(0, 2), names.slice(2)]) {
      const done = await Promise.all(pair.map((n) => runPython(tfPython, ['recipe.py', at(n.split('-'), 0)], dir, { record: join(dir, `${n}.json`) })));
      done.forEach(expectOk);
    }
    for (const n of names) records[n] = readRecord(join(dir, `${n}.json`));
  });

  it('records each seed call, and the ones keras.utils.set_random_seed makes as via it', () => {
    for (const n of ['classic-1', 'classic-2']) {
      expect(calls(recordOf(records, n).seeds)).toEqual([
        ['numpy.random.seed', [42], null],
        ['tf.random.set_seed', [42], null],
      ]);
    }
    for (const n of ['keras-1', 'keras-2']) {
      expect(calls(recordOf(records, n).seeds)).toEqual([
        ['keras.utils.set_random_seed', [42], null],
        ['random.seed', [42], 'keras.utils.set_random_seed'],
        ['numpy.random.seed', [42], 'keras.utils.set_random_seed'],
        ['tf.random.set_seed', [42], 'keras.utils.set_random_seed'],
      ]);
    }
  });

  it('shows the known gap: the classic recipe leaves Keras 3 initializers unseeded, set_random_seed does not', () => {
    const weights = (n: string) => at(recordOf(records, n).fits, 0).model.initial_weights_sha256;
    const data = (n: string) => at(recordOf(records, n).fits, 0).data;
    // The same data every run...
    expect(data('classic-1')).toEqual(data('classic-2'));
    expect(data('classic-1')).toEqual(data('keras-1'));
    // ...but Keras 3's initializers draw their seed from Python's random, which
    // np.random.seed + tf.random.set_seed leave alone.
    expect(weights('classic-1')).toMatch(hex64);
    expect(weights('classic-1')).not.toBe(weights('classic-2'));
    expect(weights('keras-1')).toBe(weights('keras-2'));
    // The layers' configs say why: no initializer and no Dropout has a seed of its own.
    expect(at(recordOf(records, 'classic-1').fits, 0).model.layers.map((l) => l.config.kernel_initializer ?? l.config.seed)).toEqual([{ class: 'GlorotUniform', seed: null }, null, { class: 'GlorotUniform', seed: null }]);
  });
});

describe('tf.data (TF 2.21, Keras 3.15)', () => {
  it('digests a dataset by its element spec and cardinality, and never reads it', async () => {
    // Every element the pipeline yields passes through tick(): one epoch reads 64, and any
    // element the recorder read would show in the count.
    const script = [
      'import numpy as np',
      'import tensorflow as tf',
      'import keras',
      'keras.utils.set_random_seed(1)',
      'count = [0]',
      'def tick(v):',
      '    count[0] += 1',
      '    return v',
      'x = np.linspace(0, 1, 64 * 2, dtype="float32").reshape(64, 2)',
      'y = (x[:, :1] > 0.5).astype("float32")',
      'ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(64, seed=1)',
      'ds = ds.map(lambda a, b: (a, tf.ensure_shape(tf.numpy_function(tick, [b], tf.float32), [1]))).batch(8)',
      'model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, activation="sigmoid")])',
      'model.compile(optimizer="adam", loss="binary_crossentropy")',
      'model.fit(ds, epochs=1, verbose=0)',
      'print("elements read", count[0])',
      '',
    ].join('\n');
    const dir = writeFiles(tempDir('tfdata'), { 'train.py': script });
    const r = expectOk(await runPython(tfPython, ['train.py'], dir, { record: join(dir, 'record.json') }));
    expect(r.stdout).toContain('elements read 64\n');
    const record = readRecord(join(dir, 'record.json'));
    const x = at(record.fits, 0).data.x;
    expect(x).toMatchObject({ kind: 'dataset', source: 'tf.data.Dataset', cardinality: 8 });
    expect(x.kind === 'dataset' && x.element_spec).toMatch(/TensorSpec\(shape=\(None, 2\), dtype=tf\.float32/);
    expect(at(record.fits, 0).data.y).toEqual({ kind: 'none' });
    expect(record.errors).toEqual([]);
  });
});

describe('numpy seeds', () => {
  it('records default_rng() without a seed as args [], and numpy scalars as numbers', async () => {
    const script = [
      'import random',
      'import numpy as np',
      'g = np.random.default_rng()',
      'h = np.random.default_rng(7)',
      'np.random.seed(np.int64(3))',
      'np.random.seed(seed=4)',
      'random.seed("text")',
      'random.seed(b"bytes")',
      'random.seed()',
      'print(type(g).__name__, h.integers(1000))',
      '',
    ].join('\n');
    const dir = writeFiles(tempDir('numpy'), { 'seeds.py': script });
    const recorded = expectOk(await runPython(tfPython, ['seeds.py'], dir, { record: join(dir, 'record.json') }));
    const plain = expectOk(await runPython(tfPython, ['seeds.py'], dir, { record: null }));
    // default_rng(7) draws the same with and without the recorder.
    expect(recorded.stdout).toBe(plain.stdout);
    const record = readRecord(join(dir, 'record.json'));
    expect(calls(record.seeds)).toEqual([
      ['numpy.random.default_rng', [], null],
      ['numpy.random.default_rng', [7], null],
      ['numpy.random.seed', [3], null],
      ['numpy.random.seed', [4], null],
      ['random.seed', ['text'], null],
      ['random.seed', ['<bytes>'], null],
      ['random.seed', [], null],
    ]);
    // Neither numpy's nor TensorFlow's section: only what the training imported counts, and
    // TensorFlow was not imported.
    expect(record.tensorflow).toBeNull();
    expect(record.fits).toEqual([]);
  });
});

describe('a training that fights the recorder (TF 2.21, Keras 3.15)', () => {
  const MODEL = [
    'x = np.linspace(0, 1, 32 * 2, dtype="float32").reshape(32, 2)',
    'y = (x[:, :1] > 0.5).astype("float32")',
    'model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])',
    'model.compile(optimizer="sgd", loss="mse")',
    'model.fit(x, y, epochs=1, verbose=0)',
  ];

  it('still trains when it drops the recorder from sys.meta_path, or replaces random.seed and Model.fit', async () => {
    const dropsFinder = [
      'import sys',
      'known = ("_frozen_importlib", "_frozen_importlib_external")',
      'sys.meta_path[:] = [f for f in sys.meta_path if getattr(f, "__module__", None) in known]',
      'import numpy as np',
      'import keras',
      'keras.utils.set_random_seed(1)',
      ...MODEL,
      'print("trained")',
      '',
    ].join('\n');
    const patches = [
      'import random',
      'import sys',
      'import numpy as np',
      'import keras',
      'own_seed_calls = []',
      '_seed = random.seed',
      'def seed(a=None, version=2):',
      '    own_seed_calls.append(a)',
      '    _seed(a, version)',
      'random.seed = seed',
      '_fit = keras.Model.fit',
      'def fit(self, *args, **kwargs):',
      '    print("own fit")',
      '    return _fit(self, *args, **kwargs)',
      'keras.Model.fit = fit',
      'keras.utils.set_random_seed(3)',
      ...MODEL,
      // Replaced by something that never reaches the recorder: that call goes unseen.
      'random.seed = lambda *a, **k: None',
      'random.seed(9)',
      'sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "_Finder"]',
      'print("trained", own_seed_calls)',
      '',
    ].join('\n');
    const dir = writeFiles(tempDir('robust'), { 'drops_finder.py': dropsFinder, 'patches.py': patches });
    const [a, b] = await Promise.all([
      runPython(tfPython, ['drops_finder.py'], dir, { record: join(dir, 'drops.json') }),
      runPython(tfPython, ['patches.py'], dir, { record: join(dir, 'patches.json') }),
    ]);
    expect(expectOk(a).stdout).toContain('trained\n');
    expect(expectOk(b).stdout).toContain('own fit\ntrained [3]\n');

    // Without the finder nothing of Keras or numpy was hooked: the record misses the fit, and
    // sees keras.utils.set_random_seed only through random.seed, patched at start-up.
    const drops = readRecord(join(dir, 'drops.json'));
    expect(drops.fits).toEqual([]);
    expect(calls(drops.seeds)).toEqual([['random.seed', [1], null]]);
    expect(drops.tensorflow).not.toBeNull();

    // The training's own wrappers call through to the recorder's: one fit, the seed calls as
    // usual, and the random.seed(9) it replaced unseen.
    const patched = readRecord(join(dir, 'patches.json'));
    expect(patched.fits).toHaveLength(1);
    expect(calls(patched.seeds)).toEqual([
      ['keras.utils.set_random_seed', [3], null],
      // As the training's own random.seed called it: with version=2 passed along.
      ['random.seed', [3, 2], 'keras.utils.set_random_seed'],
      ['numpy.random.seed', [3], 'keras.utils.set_random_seed'],
      ['tf.random.set_seed', [3], 'keras.utils.set_random_seed'],
    ]);
    expect(patched.errors).toEqual([]);
  });
});

// Fake Keras 2 (tf_keras) and torch packages: see the header. Only what the hooks reach.
const FAKES: Record<string, string> = {
  'tf_keras/__init__.py': ['__version__ = "2.15.1"', 'from tf_keras import layers, optimizers, utils', 'from tf_keras.src.engine.training import Model', 'from tf_keras.src.engine.sequential import Sequential', ''].join('\n'),
  'tf_keras/src/__init__.py': '',
  'tf_keras/src/engine/__init__.py': '',
  'tf_keras/src/engine/training.py': [
    'class Model(object):',
    '    def __init__(self, layers=None, name="model"):',
    '        self.name = name',
    '        self.layers = list(layers or [])',
    '        self.built = True',
    '        self.optimizer = None',
    '        self.loss = None',
    '    @property',
    '    def weights(self):',
    '        return [w for layer in self.layers for w in layer.weights]',
    '    @property',
    '    def trainable_weights(self):',
    '        return self.weights',
    '    def count_params(self):',
    '        return sum(layer.count_params() for layer in self.layers)',
    '    def compile(self, optimizer="rmsprop", loss=None, metrics=None):',
    '        self.optimizer = optimizer',
    '        self.loss = loss',
    '        self.compiled_metrics = type("Container", (), {"_user_metrics": metrics})()',
    '    def get_config(self):',
    '        return {"name": self.name, "layers": [layer.get_config() for layer in self.layers]}',
    // Keras 2's fit, parameter for parameter.
    '    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0, validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1, max_queue_size=10, workers=1, use_multiprocessing=False):',
    '        if epochs < 0:',
    '            raise ValueError("epochs must be >= 0, got %d" % epochs)',
    '        return "History(epochs=%d, batch_size=%s)" % (epochs, batch_size)',
    '',
  ].join('\n'),
  'tf_keras/src/engine/sequential.py': ['from tf_keras.src.engine.training import Model', 'class Sequential(Model):', '    pass', ''].join('\n'),
  'tf_keras/layers/__init__.py': [
    'import numpy as np',
    'class Weight(object):',
    '    def __init__(self, name, value):',
    '        self.name = name',
    '        self.value = value',
    '        self.shape = value.shape',
    '    def numpy(self):',
    '        return self.value',
    'class Dense(object):',
    '    def __init__(self, units, input_dim, activation=None, name="dense"):',
    '        self.units, self.activation, self.name = units, activation, name',
    '        self.weights = [Weight(name + "/kernel:0", np.full((input_dim, units), 0.5, dtype="float32")), Weight(name + "/bias:0", np.zeros((units,), dtype="float32"))]',
    '    def count_params(self):',
    '        return sum(w.value.size for w in self.weights)',
    '    def get_config(self):',
    '        return {"name": self.name, "units": self.units, "activation": self.activation, "use_bias": True, "trainable": True,',
    '                "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": 11}}, "bias_initializer": {"class_name": "Zeros", "config": {}}, "dtype": "float32"}',
    '',
  ].join('\n'),
  'tf_keras/optimizers/__init__.py': [
    'class Adam(object):',
    '    def __init__(self, learning_rate=0.001):',
    '        self.learning_rate = learning_rate',
    '    def get_config(self):',
    '        return {"name": "Adam", "learning_rate": self.learning_rate, "beta_1": 0.9, "jit": object()}',
    '',
  ].join('\n'),
  'tf_keras/utils/__init__.py': 'from tf_keras.src.utils.tf_utils import set_random_seed\n',
  'tf_keras/src/utils/__init__.py': '',
  'tf_keras/src/utils/tf_utils.py': ['import random', 'import numpy as np', 'def set_random_seed(seed):', '    random.seed(seed)', '    np.random.seed(seed)', ''].join('\n'),

  'torch/__init__.py': [
    'from torch.random import manual_seed',
    'from torch import cuda',
    'import torch.backends.cudnn',
    'import torch.backends.cuda',
    '_deterministic = [False]',
    'def use_deterministic_algorithms(mode, *, warn_only=False):',
    '    _deterministic[0] = bool(mode)',
    'def are_deterministic_algorithms_enabled():',
    '    return _deterministic[0]',
    'def set_float32_matmul_precision(precision):',
    '    pass',
    '',
  ].join('\n'),
  'torch/random.py': ['def manual_seed(seed):', '    import torch.cuda', '    torch.cuda.manual_seed_all(int(seed))', '    return "Generator"', ''].join('\n'),
  'torch/cuda/__init__.py': 'from torch.cuda.random import manual_seed_all\n',
  'torch/cuda/random.py': 'def manual_seed_all(seed):\n    pass\n',
  'torch/backends/__init__.py': '',
  'torch/backends/cudnn/__init__.py': 'deterministic = False\nbenchmark = True\nallow_tf32 = True\n',
  'torch/backends/cuda/__init__.py': 'class _Matmul(object):\n    allow_tf32 = False\nmatmul = _Matmul()\n',
};

describe('Keras 2 (tf_keras) and torch, through fake packages', () => {
  let fakes: string;
  beforeAll(() => {
    fakes = writeFiles(tempDir('fakes'), FAKES);
  });

  const TF_KERAS_TRAINING = [
    'import numpy as np',
    'import tf_keras',
    'tf_keras.utils.set_random_seed(7)',
    'class Logger(object):',
    '    pass',
    'model = tf_keras.Sequential([tf_keras.layers.Dense(4, 2, activation="relu", name="hidden"), tf_keras.layers.Dense(1, 4, name="out")], name="fake")',
    'model.compile(optimizer=tf_keras.optimizers.Adam(0.002), loss="mse", metrics=["mae", np.mean])',
    'x = np.ones((10, 2), dtype="float64")',
    'y = np.arange(10, dtype="int32")',
    // Positionally, in Keras 2's order: x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data, shuffle, class_weight.
    'print(model.fit(x, y, 5, 3, 0, [Logger()], 0.2, None, False, {0: 1.0, 1: 2.5}))',
    'def batches():',
    '    for i in range(3):',
    '        yield x[i:i + 1], y[i:i + 1]',
    'g = batches()',
    'print(model.fit(g, epochs=1, validation_data=(x, y), sample_weight=None))',
    'print("generator still at", int(next(g)[1][0]))',
    'try:',
    '    model.fit(x, y, epochs=-1)',
    'except ValueError as error:',
    '    print("fit raised", error)',
    'class NoConfig(tf_keras.Model):',
    '    def get_config(self):',
    '        raise RuntimeError("no config here")',
    'print(NoConfig([tf_keras.layers.Dense(1, 2)], name="noconfig").fit(x, y))',
    '',
  ].join('\n');

  it('records tf_keras.Model.fit with Keras 2 arguments, never reads a generator, and passes results and errors through', async () => {
    const dir = writeFiles(tempDir('tf-keras'), { 'train.py': TF_KERAS_TRAINING });
    const recorded = expectOk(await runPython(tfPython, ['train.py'], dir, { record: join(dir, 'record.json'), pythonPath: [fakes] }));
    const plain = expectOk(await runPython(tfPython, ['train.py'], dir, { record: null, pythonPath: [fakes] }));
    expect(recorded.stdout).toBe(plain.stdout);
    expect(recorded.stdout).toBe(
      [
        'History(epochs=3, batch_size=5)',
        'History(epochs=1, batch_size=None)',
        'generator still at 0',
        'fit raised epochs must be >= 0, got -1',
        'History(epochs=1, batch_size=None)',
        '',
      ].join('\n'),
    );
    const record = readRecord(join(dir, 'record.json'));
    expect(calls(record.seeds)).toEqual([
      ['tf_keras.utils.set_random_seed', [7], null],
      ['random.seed', [7], 'tf_keras.utils.set_random_seed'],
      ['numpy.random.seed', [7], 'tf_keras.utils.set_random_seed'],
    ]);
    expect(record.fits.map((f) => f.index)).toEqual([0, 1, 2, 3]);
    const [first, second, failed, noConfig] = [at(record.fits, 0), at(record.fits, 1), at(record.fits, 2), at(record.fits, 3)];
    expect(first).toMatchObject({
      api: 'tf_keras',
      keras_version: '2.15.1',
      backend: 'tensorflow',
      epochs: 3,
      batch_size: 5,
      shuffle: false,
      validation_split: 0.2,
      class_weight: { '0': 1, '1': 2.5 },
      callbacks: ['Logger'],
      loss: 'mse',
      metrics: ['mae', 'mean'],
      // The optimizer's config keeps JSON values only (its "jit" object is left out).
      optimizer: { class: 'Adam', config: { name: 'Adam', learning_rate: 0.002, beta_1: 0.9 } },
    });
    expect(first.model).toMatchObject({ class: 'Sequential', name: 'fake', params: 4 * 2 + 4 + 4 + 1, trainable_params: 17 });
    expect(first.model.layers).toEqual([
      { class: 'Dense', name: 'hidden', params: 12, config: { units: 4, activation: 'relu', use_bias: true, kernel_initializer: { class: 'GlorotUniform', seed: 11 }, bias_initializer: { class: 'Zeros', seed: null }, dtype: 'float32' } },
      { class: 'Dense', name: 'out', params: 5, config: { units: 1, activation: null, use_bias: true, kernel_initializer: { class: 'GlorotUniform', seed: 11 }, bias_initializer: { class: 'Zeros', seed: null }, dtype: 'float32' } },
    ]);
    // The weights' digest, recomputed here from the recorder's definition: per weight in order,
    // the JSON [name, shape, dtype] and a newline, then its bytes in C order.
    const weights = createHash('sha256');
    const weight = (name: string, shape: number[], values: Float32Array) => {
      weights.update(`${JSON.stringify([name, shape, 'float32'])}\n`);
      weights.update(Buffer.from(values.buffer));
    };
    weight('hidden/kernel:0', [2, 4], new Float32Array(8).fill(0.5));
    weight('hidden/bias:0', [4], new Float32Array(4));
    weight('out/kernel:0', [4, 1], new Float32Array(4).fill(0.5));
    weight('out/bias:0', [1], new Float32Array(1));
    expect(first.model.initial_weights_sha256).toBe(weights.digest('hex'));
    const x = asArray(first.data.x);
    expect(x).toEqual({ kind: 'array', source: 'numpy', shape: [10, 2], dtype: 'float64', bytes: 160, sha256: createHash('sha256').update(Buffer.from(new Float64Array(20).fill(1).buffer)).digest('hex') });
    expect(asArray(first.data.y)).toMatchObject({ shape: [10], dtype: 'int32', bytes: 40 });

    expect(second.data.x).toEqual({ kind: 'dataset', source: 'generator', element_spec: null, cardinality: null });
    expect(second.data.validation).toMatchObject({ kind: 'structure', items: { '0': { kind: 'array', sha256: x.sha256 }, '1': { kind: 'array', shape: [10] } } });
    expect(failed.epochs).toBe(-1);
    // A recorder failure (here the model's get_config) is noted, and the fit goes on.
    expect(noConfig.model.config_sha256).toBeNull();
    expect(noConfig.model.initial_weights_sha256).toMatch(hex64);
    expect(record.errors).toEqual([{ where: 'fit[3].model.config_sha256', message: 'RuntimeError: no config here' }]);
  });

  it('records the torch seeds and switches, and its determinism settings at exit', async () => {
    const script = [
      'import numpy as np',
      'import torch',
      'print(torch.manual_seed(3))',
      'torch.use_deterministic_algorithms(True, warn_only=True)',
      'torch.set_float32_matmul_precision("high")',
      'torch.backends.cudnn.deterministic = True',
      'torch.backends.cudnn.benchmark = False',
      // Whether numpy's global generator was seeded with 3 (only SNAPSHOT_RECORD_ALSO_SEED does).
      'drawn = np.random.randint(1 << 30)',
      'np.random.seed(3)',
      'print("numpy seeded with 3:", drawn == np.random.randint(1 << 30))',
      '',
    ].join('\n');
    const dir = writeFiles(tempDir('torch'), { 'train.py': script });
    const [plain, explained] = await Promise.all([
      runPython(tfPython, ['train.py'], dir, { record: join(dir, 'plain.json'), pythonPath: [fakes] }),
      runPython(tfPython, ['train.py'], dir, { record: join(dir, 'explain.json'), pythonPath: [fakes], env: { SNAPSHOT_RECORD_ALSO_SEED: '1' } }),
    ]);
    expect(expectOk(plain).stdout).toBe('Generator\nnumpy seeded with 3: False\n');
    expect(expectOk(explained).stdout).toBe('Generator\nnumpy seeded with 3: True\n');

    const record = readRecord(join(dir, 'plain.json'));
    expect(calls(record.seeds)).toEqual([
      ['torch.manual_seed', [3], null],
      ['torch.cuda.manual_seed_all', [3], 'torch.manual_seed'],
      ['numpy.random.seed', [3], null],
    ]);
    expect(record.switches).toEqual([
      { call: 'torch.use_deterministic_algorithms', args: [true, true], order: 2, via: null },
      { call: 'torch.set_float32_matmul_precision', args: ['high'], order: 3, via: null },
    ]);
    expect(record.torch).toEqual({ deterministic_algorithms: true, cudnn_deterministic: true, cudnn_benchmark: false, allow_tf32_matmul: false, allow_tf32_cudnn: true });
    expect(record.tensorflow).toBeNull();

    // SNAPSHOT_RECORD_ALSO_SEED=1: right after the training's own torch.manual_seed(3), Python's
    // and numpy's generators are seeded with 3 too; after its numpy.random.seed(3), Python's.
    const explain = readRecord(join(dir, 'explain.json'));
    expect(calls(explain.seeds)).toEqual([
      ['torch.manual_seed', [3], null],
      ['torch.cuda.manual_seed_all', [3], 'torch.manual_seed'],
      ['random.seed', [3], 'snapshot --explain'],
      ['numpy.random.seed', [3], 'snapshot --explain'],
      ['numpy.random.seed', [3], null],
      ['random.seed', [3], 'snapshot --explain'],
    ]);
    expect(explain.errors).toEqual([]);
  });

  it('leaves the training alone when the record cannot be written', async () => {
    // The recorder makes a missing record folder (a container's does not exist yet), so the
    // path that cannot be written is one under a regular file.
    const dir = writeFiles(tempDir('broken-path'), { 'train.py': TF_KERAS_TRAINING, blocker: 'a file, not a folder\n' });
    const record = join(dir, 'blocker', 'record.json');
    const recorded = expectOk(await runPython(tfPython, ['train.py'], dir, { record, pythonPath: [fakes] }));
    const plain = expectOk(await runPython(tfPython, ['train.py'], dir, { record: null, pythonPath: [fakes] }));
    expect(recorded.stdout).toBe(plain.stdout);
    expect(recorded.stderr).toContain(`snapshot recorder: could not write ${record}`);
    // Said once, not after every fit.
    expect(recorded.stderr.split('snapshot recorder:').length - 1).toBe(1);
    expect(readFileSync(join(dir, 'blocker'), 'utf8')).toBe('a file, not a folder\n');
  });
});

describe('chaining to the next sitecustomize', () => {
  it("still runs a user's sitecustomize further on PYTHONPATH, with the recorder on or off", async () => {
    const other = writeFiles(tempDir('other-site'), {
      'sitecustomize.py': ['import os, sys', 'open(os.environ["MARKER"], "w").write("ran")', 'sys.path.append("/added-by-user-sitecustomize")', ''].join('\n'),
    });
    const dir = tempDir('chain');
    const script = ['import random, sys', 'random.seed(5)', 'import sitecustomize', 'print(sitecustomize.__file__)', 'print("/added-by-user-sitecustomize" in sys.path)', ''].join('\n');
    writeFileSync(join(dir, 'main.py'), script);
    for (const recorded of [true, false]) {
      const marker = join(dir, `marker-${recorded}`);
      const record = join(dir, `record-${recorded}.json`);
      const r = expectOk(
        await runPython(tfPython, ['main.py'], dir, recorded ? { record, pythonPath: [other], env: { MARKER: marker } } : { record: null, pythonPath: [RECORDER, other], env: { MARKER: marker } }),
      );
      expect(readFileSync(marker, 'utf8')).toBe('ran');
      // The training sees the user's sitecustomize under its name, as it would without us.
      expect(r.stdout).toBe(`${join(other, 'sitecustomize.py')}\nTrue\n`);
      expect(r.stderr).toBe('');
      if (recorded) expect(calls(readRecord(record).seeds)).toEqual([['random.seed', [5], null]]);
      else expect(existsSync(record)).toBe(false);
    }
  });

  it('survives a failing sitecustomize as Python does: one line on stderr, and the training runs', async () => {
    const other = writeFiles(tempDir('failing-site'), { 'sitecustomize.py': 'raise RuntimeError("broken site")\n' });
    const dir = tempDir('chain-fail');
    const record = join(dir, 'record.json');
    const r = expectOk(await runPython(tfPython, ['-c', 'import random; random.seed(2); print("ran")'], dir, { record, pythonPath: [other] }));
    expect(r.stdout).toBe('ran\n');
    expect(r.stderr).toContain('RuntimeError: broken site');
    expect(calls(readRecord(record).seeds)).toEqual([['random.seed', [2], null]]);
  });
});

describeIf(python36 !== null)('Python 3.6', () => {
  it('records random.seed on the oldest interpreter the tool supports', async () => {
    const dir = tempDir('py36');
    const record = join(dir, 'record.json');
    const r = expectOk(await runPython(python36 as string, ['-c', 'import random; random.seed(1); print(random.random())'], dir, { record }));
    expect(r.stdout).toBe('0.13436424411240122\n');
    expect(r.stderr).toBe('');
    const recording = readRecord(record);
    expect(recording.python).toMatch(/^3\.6\./);
    expect(recording.seeds).toEqual([{ call: 'random.seed', args: [1], order: 0, via: null }]);
    expect(recording).toMatchObject({ switches: [], fits: [], torch: null, tensorflow: null, errors: [] });
  });
});

describe('Keras 3 on JAX', () => {
  it('records the fit on the JAX trainer, and digests a non-contiguous array in C order', async () => {
    const script = [
      'import hashlib',
      'import numpy as np',
      'import keras',
      'keras.utils.set_random_seed(5)',
      'x = np.arange(96, dtype="float32").reshape(32, 3)[:, ::-1]',
      'y = np.zeros((32, 1), dtype="float32")',
      'model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2), keras.layers.Dense(1)])',
      'model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse", metrics=[keras.metrics.MeanAbsoluteError()])',
      'model.fit(x=x, y=y, epochs=2, verbose=0, validation_data=(x, y), callbacks=[keras.callbacks.History()])',
      'print(x.flags["C_CONTIGUOUS"], hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest())',
      '',
    ].join('\n');
    const dir = writeFiles(tempDir('jax'), { 'train.py': script });
    const r = expectOk(await runPython(kerasJaxPython, ['train.py'], dir, { record: join(dir, 'record.json'), env: { KERAS_BACKEND: 'jax' } }));
    const [contiguous, sha] = r.stdout.trim().split(' ');
    expect(contiguous).toBe('False');
    const record = readRecord(join(dir, 'record.json'));
    expect(calls(record.seeds)).toEqual([
      ['keras.utils.set_random_seed', [5], null],
      ['random.seed', [5], 'keras.utils.set_random_seed'],
      ['numpy.random.seed', [5], 'keras.utils.set_random_seed'],
    ]);
    const fit = at(record.fits, 0);
    expect(fit).toMatchObject({ api: 'keras', backend: 'jax', epochs: 2, batch_size: null, metrics: ['MeanAbsoluteError'], callbacks: ['History'], optimizer: { class: 'SGD' } });
    expect(asArray(fit.data.x)).toMatchObject({ shape: [32, 3], dtype: 'float32', sha256: sha });
    expect(fit.data.validation).toMatchObject({ kind: 'structure', items: { '0': { sha256: sha } } });
    // No TensorFlow in this venv, so no section for it.
    expect(record.tensorflow).toBeNull();
    expect(record.errors).toEqual([]);
  });
});

describe('what a training can do with the patched callables, and records at the schema bounds', () => {
  const SCRIPT = `
import hashlib, json, multiprocessing as mp, pickle, random, sys
import numpy as np

class Holder:
    # A Cython function binds as a method on a class; a bound method does not. The patched ones must do the same.
    rng = np.random.default_rng
    seed = random.seed

if __name__ == "__main__":
    out = {}
    try:
        Holder().rng(0)
        out["rng_binds"] = False
    except TypeError:
        out["rng_binds"] = True
    Holder.seed(1)
    out["pickles"] = [len(pickle.dumps(f)) > 0 for f in (random.seed, np.random.seed, np.random.default_rng)]
    with mp.get_context("spawn").Pool(1, initializer=random.seed, initargs=(3,)) as pool:
        out["pool"] = pool.map(abs, [-1, -2])
    print(json.dumps(out))
    x = np.arange(600 * 24, dtype=np.float32).reshape(600, 24)
    fields = np.zeros(4, dtype=[("f%02d" % i, "<f8") for i in range(20)])
    many = [np.full((2,), i, dtype=np.float32) for i in range(300)]
    recorder = sys.modules.get("_snapshot_recorder")
    if recorder is not None:
        checks = {}
        for name, a in (("transposed", x.T), ("strided", x[:, ::3]), ("broadcast", np.broadcast_to(np.arange(5.0), (1000, 5)))):
            h = hashlib.sha256()
            recorder._hash_into(h, a)
            checks[name] = h.hexdigest() == hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
        print(json.dumps(checks))
        # Digests the recorder would write at fit, checked by the tool's reader below.
        recorder._record["fits"].append({"index": 0, "api": "keras", "keras_version": None, "backend": None,
            "model": {"class": "M", "name": "m" * 900, "layers": [], "params": 0, "trainable_params": 0, "config_sha256": None, "initial_weights_sha256": None},
            "optimizer": None, "loss": None, "metrics": None, "epochs": 1, "batch_size": None, "shuffle": None, "validation_split": None,
            "class_weight": None, "callbacks": [], "data": {"x": recorder.digest(fields), "y": recorder.digest(many), "validation": {"kind": "none"}, "sample_weight": {"kind": "none"}}})
        recorder._record["fits"][0]["model"]["name"] = recorder._clip("m" * 900, 500)
`;

  it('keeps bound and unbound as they were, pickles the patched seed functions, and a spawn pool with initializer=random.seed works', async () => {
    const dir = writeFiles(tempDir('callables'), { 'train.py': SCRIPT });
    const record = join(dir, 'record.json');
    const recorded = expectOk(await runPython(tfPython, ['train.py'], dir, { record }));
    const plain = expectOk(await runPython(tfPython, ['train.py'], dir, { record: null }));
    const [withIt, checks] = recorded.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(withIt).toEqual(JSON.parse(plain.stdout.trim().split('\n')[0] as string));
    expect(withIt).toEqual({ rng_binds: true, pickles: [true, true, true], pool: [1, 2] });
    // A transposed, strided or broadcast array hashes as its C-order bytes, a block at a time.
    expect(checks).toEqual({ transposed: true, strided: true, broadcast: true });
    // A dtype of 20 fields and a list of 300 arrays stay inside the record's schema, and still tell their contents.
    const reading = await readRecording(record);
    expect(reading.problem).toBeNull();
    const data = reading.record?.fits[0]?.data;
    expect(data?.x).toMatchObject({ kind: 'array', dtype: expect.stringMatching(/^\[\('f00', '<f8'\).*~[0-9a-f]{16}$/) });
    expect(data?.y.kind).toBe('structure');
    const items = (data?.y as { items: Record<string, { kind: string; reason?: string }> }).items;
    expect(Object.keys(items)).toHaveLength(256);
    expect(items['...']).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/^45 more items, digested together: sha256 [0-9a-f]{64}$/) });
  });

  it("the tool's reader refuses a record nested thousands deep, without a stack overflow", async () => {
    const dir = tempDir('deep');
    let nested = '{"kind": "none"}';
    for (let i = 0; i < 100_000; i++) nested = `{"kind": "structure", "items": {"a": ${nested}}}`;
    writeFileSync(join(dir, 'record.json'), `{"recorder": 1, "python": "3.11.7", "seeds": [], "switches": [], "fits": [], "torch": null, "tensorflow": null, "libraries": null, "errors": [], "deep": ${nested}}`);
    const reading = await readRecording(join(dir, 'record.json'));
    expect(reading.record).toBeNull();
    expect(reading.problem).toMatch(/nests deeper than 32 levels/);
  });
});
