// The format readers of `snapshot compare` on real artifacts: tiny Keras models trained in the
// real TensorFlow 2.21 / Keras 3.15 venv, saved as .keras, as Keras 3 weights (.weights.h5) and as
// legacy HDF5 (.h5); plus a random-bytes .h5, a truncated .keras and small text files.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareBytesFiles } from '../../src/adapters/readers/bytes-file.js';
import { compareH5Files } from '../../src/adapters/readers/hdf5-file.js';
import { compareKerasFiles } from '../../src/adapters/readers/keras-file.js';
import { runProcess } from '../../src/adapters/process.js';
import { BITWISE, type Tolerance } from '../../src/core/compare/model.js';
import { buildPolicy, type PolicyDocument, type ResolvedOutputPolicy } from '../../src/core/compare/policy.js';
import { tfPython } from '../helpers/cli.js';

const TRAIN = `
import json, os, sys
import numpy as np
import keras, tensorflow as tf
seed, out = int(sys.argv[1]), sys.argv[2]
keras.utils.set_random_seed(seed)
tf.config.experimental.enable_op_determinism()
x = np.arange(24, dtype="float32").reshape(8, 3) / 10.0
y = (x.sum(axis=1, keepdims=True) > 1.0).astype("float32")
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, epochs=2, batch_size=4, verbose=0, shuffle=False)
os.makedirs(out, exist_ok=True)
model.save(os.path.join(out, "m.keras"))
model.save_weights(os.path.join(out, "w.weights.h5"))
model.save(os.path.join(out, "legacy.h5"))  # Keras 3 still writes legacy HDF5 (with a warning)
with open(os.path.join(out, "history.json"), "w") as f:
    json.dump(history.history, f)
`;

const loose: Tolerance = { mode: 'allclose', rtol: 1e-5, atol: 1e-8, nan_equal: true };
/** An output's rules under a policy (none: bitwise everywhere). */
const rulesFor = (document: PolicyDocument | null, path = 'm.keras'): ResolvedOutputPolicy => buildPolicy(document).forOutput(path);
const bitwise = rulesFor(null);
const looseRules = rulesFor({ version: 1, default: { mode: 'allclose', rtol: 1e-5, atol: 1e-8 } });

let work: string;
let same1: string;
let same2: string;
let other: string;

async function train(seed: number, out: string, kerasHome: string): Promise<void> {
  const result = await runProcess(tfPython, [join(work, 'train.py'), String(seed), out], {
    env: { ...process.env, KERAS_HOME: kerasHome, KERAS_BACKEND: 'tensorflow', TF_CPP_MIN_LOG_LEVEL: '3', CUDA_VISIBLE_DEVICES: '', PYTHONHASHSEED: '0', VIRTUAL_ENV: undefined },
    timeoutMs: 110_000,
  });
  if (result.outcome !== 'ok') throw new Error(`training failed: ${result.reason}\n${result.stderr.slice(-2000)}`);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'snapshot-compare-formats-'));
  writeFileSync(join(work, 'train.py'), TRAIN);
  const kerasHome = join(work, 'keras-home');
  mkdirSync(kerasHome);
  same1 = join(work, 'seed1-a');
  same2 = join(work, 'seed1-b');
  other = join(work, 'seed2');
  await Promise.all([train(1, same1, kerasHome), train(2, other, kerasHome)]);
  // Run after the first one finished, so its date_saved and zip timestamps are later.
  await train(1, same2, kerasHome);
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('.keras archives', () => {
  it('two same-seed trainings differ in bytes but compare identical, listing what was ignored', async () => {
    const report = await compareKerasFiles(join(same1, 'm.keras'), join(same2, 'm.keras'), bitwise, 'models/m.keras');
    expect(report.bytes?.baseline_sha256).not.toBe(report.bytes?.candidate_sha256);
    expect(report).toMatchObject({ path: 'models/m.keras', format: 'keras', status: 'identical' });
    expect(report.ignored).toContain('metadata.json: date_saved');
    expect(report.ignored?.some((i) => /^config\.json: shared_object_id \(\d+ places?\)$/.test(i))).toBe(true);
    expect(report.tensors?.map((t) => t.name)).toEqual(expect.arrayContaining(['layers/dense/vars/0', 'layers/dense_1/vars/1', 'optimizer/vars/0']));
    expect(report.tensors?.every((t) => t.status === 'identical')).toBe(true);
    expect(report.metrics).toBeUndefined();
  });

  it('another seed is different, naming the weights that differ', async () => {
    const report = await compareKerasFiles(join(same1, 'm.keras'), join(other, 'm.keras'), looseRules, 'm.keras');
    expect(report.status).toBe('different');
    const off = (report.tensors ?? []).filter((t) => t.status === 'different').map((t) => t.name);
    expect(off).toEqual(expect.arrayContaining(['layers/dense/vars/0', 'layers/dense_1/vars/0']));
    const kernel = report.tensors?.find((t) => t.name === 'layers/dense/vars/0');
    expect(kernel).toMatchObject({ dtype: { baseline: '<f4', candidate: '<f4' }, shape: { baseline: [3, 4], candidate: [3, 4] }, elements: 12 });
    expect(kernel?.mismatched).toBeGreaterThan(0);
    expect(kernel?.max_abs_diff).toBeGreaterThan(0);
    expect(kernel?.first_mismatch).toHaveLength(2);
    expect(report.message).toMatch(/weights not identical/);
  });

  it('a truncated archive is an error naming the file', async () => {
    const bytes = readFileSync(join(same1, 'm.keras'));
    const truncated = join(work, 'truncated.keras');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const report = await compareKerasFiles(join(same1, 'm.keras'), truncated, bitwise, 'm.keras');
    expect(report.status).toBe('error');
    expect(report.message).toContain(truncated);
    expect(report.message).toMatch(/candidate/);
  });

  it('leaves no extracted weights behind in the temporary folder', async () => {
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith('snapshot-keras-')).length;
    await compareKerasFiles(join(same1, 'm.keras'), join(same2, 'm.keras'), bitwise, 'm.keras');
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('snapshot-keras-')).length).toBe(before);
  });
});

describe('HDF5 files', () => {
  it('Keras 3 weights from two same-seed trainings are identical, dataset by dataset', async () => {
    const result = await compareH5Files(join(same1, 'w.weights.h5'), join(same2, 'w.weights.h5'), BITWISE);
    expect(result.error).toBeUndefined();
    expect(result.missing).toEqual([]);
    expect(result.extra).toEqual([]);
    expect(result.tensors.map((t) => t.name)).toEqual(expect.arrayContaining(['layers/dense/vars/0', 'layers/dense/vars/1', 'optimizer/vars/0', 'optimizer/vars/9']));
    expect(result.tensors.every((t) => t.status === 'identical')).toBe(true);
    // The optimizer's iteration counter is an int64 scalar.
    expect(result.tensors.find((t) => t.name === 'optimizer/vars/0')).toMatchObject({ dtype: { baseline: '<i8' }, shape: { baseline: [] }, elements: 1 });
  });

  it('Keras 3 weights of another seed differ, with the tensor names', async () => {
    const result = await compareH5Files(join(same1, 'w.weights.h5'), join(other, 'w.weights.h5'), loose);
    const off = result.tensors.filter((t) => t.status === 'different').map((t) => t.name);
    expect(off).toEqual(expect.arrayContaining(['layers/dense/vars/0', 'layers/dense_1/vars/0']));
    // Same number of optimizer steps on both sides.
    expect(result.tensors.find((t) => t.name === 'optimizer/vars/0')?.status).toBe('identical');
  });

  it('legacy model.save(.h5) files compare identical, root attributes included', async () => {
    const result = await compareH5Files(join(same1, 'legacy.h5'), join(same2, 'legacy.h5'), BITWISE);
    expect(result.error).toBeUndefined();
    expect(result.tensors.map((t) => t.name)).toContain('model_weights/dense/sequential/dense/kernel');
    expect(result.tensors.every((t) => t.status === 'identical')).toBe(true);
    // Attributes at every level: the root's, and the groups' (legacy Keras names its weights there).
    const keys = result.attributes.map((a) => a.key);
    expect(keys).toEqual(expect.arrayContaining(['@backend', '@keras_version', '@model_config', '@training_config', 'model_weights@layer_names', 'model_weights/dense@weight_names']));
    expect(result.attributes.every((a) => a.status === 'identical')).toBe(true);
    const another = await compareH5Files(join(same1, 'legacy.h5'), join(other, 'legacy.h5'), loose);
    expect(another.tensors.some((t) => t.status === 'different')).toBe(true);
  });

  it('reads big datasets in row blocks with the same result', async () => {
    const whole = await compareH5Files(join(same1, 'w.weights.h5'), join(other, 'w.weights.h5'), loose);
    const blocks = await compareH5Files(join(same1, 'w.weights.h5'), join(other, 'w.weights.h5'), loose, { blockBytes: 1 });
    expect(blocks.tensors).toEqual(whole.tensors);
  });

  it('random bytes named .h5 are an error naming the file', async () => {
    const bogus = join(work, 'bogus.h5');
    writeFileSync(bogus, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)));
    const result = await compareH5Files(join(same1, 'w.weights.h5'), bogus, BITWISE);
    expect(result.error).toContain(bogus);
    expect(result.error).toMatch(/not an HDF5 file/);
    const missing = await compareH5Files(join(work, 'nope.h5'), bogus, BITWISE);
    expect(missing.error).toMatch(/nope\.h5.*does not exist/);
  });
});

describe('bytes and text files', () => {
  it('identical files by hash; a small text change gets a unified diff', async () => {
    const a = join(work, 'a.txt');
    const b = join(work, 'b.txt');
    const c = join(work, 'c.txt');
    writeFileSync(a, 'epoch 1 loss 0.5\nepoch 2 loss 0.4\ndone\n');
    writeFileSync(b, 'epoch 1 loss 0.5\nepoch 2 loss 0.4\ndone\n');
    writeFileSync(c, 'epoch 1 loss 0.5\nepoch 2 loss 0.41\ndone\n');
    const same = await compareBytesFiles(a, b, 'log.txt');
    expect(same).toMatchObject({ path: 'log.txt', format: 'bytes', status: 'identical' });
    expect(same.text_diff).toBeUndefined();
    const changed = await compareBytesFiles(a, c, 'log.txt');
    expect(changed.status).toBe('different');
    expect(changed.bytes?.baseline_size).toBe(39);
    expect(changed.text_diff).toEqual(['--- baseline', '+++ candidate', '@@ -1,3 +1,3 @@', ' epoch 1 loss 0.5', '-epoch 2 loss 0.4', '+epoch 2 loss 0.41', ' done']);
  });

  it('binary files get no text diff', async () => {
    const a = join(work, 'a.bin');
    const b = join(work, 'b.bin');
    writeFileSync(a, Buffer.from([0, 1, 2, 3]));
    writeFileSync(b, Buffer.from([0, 1, 2, 4]));
    const report = await compareBytesFiles(a, b);
    expect(report.status).toBe('different');
    expect(report.text_diff).toBeUndefined();
  });

  it('an unreadable side is an error naming it', async () => {
    const report = await compareBytesFiles(join(work, 'absent.bin'), join(work, 'a.txt'));
    expect(report.status).toBe('error');
    expect(report.message).toContain('absent.bin');
  });
});

it('the generated artifacts exist', () => {
  for (const dir of [same1, same2, other]) for (const f of ['m.keras', 'w.weights.h5', 'legacy.h5', 'history.json']) expect(existsSync(join(dir, f))).toBe(true);
});
