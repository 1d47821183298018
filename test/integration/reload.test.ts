// The saved-model reload check for real: models saved by Keras 3.15 on TensorFlow 2.21 (.keras,
// legacy .h5, a SavedModel from model.export, a weights-only .h5), plus the cases that must be
// reported rather than crash (a truncated .keras, a custom layer nobody imports, an .h5 naming a
// layer class Keras 3 does not have, as a Keras 2 file can), loaded again by
// python/snapshot_reload.py through the adapter. A fake interpreter writes tampered results.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runProcess } from '../../src/adapters/process.js';
import { compareReloadedPredictions, findSavedModels, pythonExecutor, runReload, type ReloadRun, type SavedModelFile } from '../../src/adapters/probes/reload.js';
import { BITWISE } from '../../src/core/compare/model.js';
import { RELOAD_BATCH, RELOAD_SEED, type ReloadExecutor } from '../../src/core/reload.js';
import type { ReloadedModel, Snapshot } from '../../src/core/model.js';
import { planReplayReload, reloadBaselineModels } from '../../src/services/reload.js';
import { makeSnapshot } from '../helpers/snapshot-fixture.js';
import { cleanEnv, runCli, tfPython } from '../helpers/cli.js';
import { describeIf } from '../helpers/pythons.js';

const MAKE = `
import json, os, shutil, sys
import h5py, keras, numpy as np
out = sys.argv[1]
keras.utils.set_random_seed(3)

@keras.saving.register_keras_serializable(package="fixture")
class Twice(keras.layers.Layer):
    def call(self, x):
        return x * 2

model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
os.makedirs(os.path.join(out, "bad"))
model.save(os.path.join(out, "model.keras"))
model.save(os.path.join(out, "model.h5"))
model.save_weights(os.path.join(out, "model.weights.h5"))
model.export(os.path.join(out, "export"))
keras.Sequential([keras.Input((4,)), Twice(), keras.layers.Dense(1)]).save(os.path.join(out, "bad", "custom.keras"))
data = open(os.path.join(out, "model.keras"), "rb").read()
open(os.path.join(out, "bad", "truncated.keras"), "wb").write(data[: len(data) // 2])
# What a Keras 2 file can hold that Keras 3 cannot load: a layer class it does not know.
shutil.copy(os.path.join(out, "model.h5"), os.path.join(out, "bad", "keras2.h5"))
with h5py.File(os.path.join(out, "bad", "keras2.h5"), "r+") as f:
    config = json.loads(f.attrs["model_config"])
    config["config"]["layers"][0]["class_name"] = "DenseFromKeras2"
    f.attrs["model_config"] = json.dumps(config)
a = keras.Input((3,), name="a")
b = keras.Input((None, 2), name="b", dtype="int32")
two = keras.Model({"b": b, "a": a}, {"z": keras.layers.Dense(1)(a), "y": keras.ops.sum(keras.ops.cast(b, "float32"), axis=1)})
two.save(os.path.join(out, "two-inputs.keras"))
with open(os.path.join(out, "metrics.json"), "w") as f:
    json.dump({"loss": [1.0]}, f)
`;

const available = existsSync(tfPython);
let work: string;
let outputs: string;
let kerasHome: string;
let found: SavedModelFile[];
const skipped = new Map<string, string>();
let first: ReloadRun;
let second: ReloadRun;

const env = (): NodeJS.ProcessEnv => ({ ...process.env, KERAS_HOME: kerasHome, KERAS_BACKEND: 'tensorflow', CUDA_VISIBLE_DEVICES: '', VIRTUAL_ENV: undefined });
const byName = (run: ReloadRun, name: string) => {
  const model = run.models.find((m) => m.path === name);
  if (model === undefined) throw new Error(`no ${name} in the reload`);
  return model;
};

/** Every file under dir with its size and mtime: what a reload must leave as it was. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) visit(path);
      else {
        const info = statSync(path);
        out.push(`${relative(dir, path)} ${info.size} ${info.mtimeMs}`);
      }
    }
  };
  visit(dir);
  return out.sort();
}

describeIf(available)('the saved-model reload check on real Keras 3 / TensorFlow 2.21 models', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'snapshot-reload-'));
    outputs = join(work, 'outputs');
    kerasHome = join(work, 'keras-home');
    mkdirSync(kerasHome);
    // As the training left it: Keras writes keras.json on first import when there is none.
    writeFileSync(join(kerasHome, 'keras.json'), JSON.stringify({ floatx: 'float32', epsilon: 1e-7, backend: 'tensorflow', image_data_format: 'channels_last' }));
    writeFileSync(join(work, 'make.py'), MAKE);
    const made = await runProcess(tfPython, [join(work, 'make.py'), outputs], { env: { ...env(), TF_CPP_MIN_LOG_LEVEL: '3' }, timeoutMs: 120_000 });
    if (made.outcome !== 'ok') throw new Error(`the fixture models were not made: ${made.reason}\n${made.stderr.slice(-2000)}`);
    found = await findSavedModels(outputs, (name, reason) => skipped.set(name, reason));
    const before = [...listing(outputs), ...listing(kerasHome)];
    const run = (n: number) => runReload({ execute: pythonExecutor(tfPython, env(), 150_000), models: found, seed: RELOAD_SEED, batch: RELOAD_BATCH, outDir: join(work, `reload-${n}`) });
    first = await run(1);
    second = await run(2);
    // It writes nowhere but its own folder: not among the outputs, not in KERAS_HOME.
    expect([...listing(outputs), ...listing(kerasHome)]).toEqual(before);
  }, 170_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('finds the .keras files, the legacy .h5 full models and the SavedModel folder, and passes over model.weights.h5', () => {
    expect(found.map((m) => [m.name, m.format])).toEqual([
      ['bad/custom.keras', 'keras'],
      ['bad/keras2.h5', 'h5'],
      ['bad/truncated.keras', 'keras'],
      ['export', 'savedmodel'],
      ['model.h5', 'h5'],
      ['model.keras', 'keras'],
      ['two-inputs.keras', 'keras'],
    ]);
    expect(found.find((m) => m.name === 'export')?.path).toBe(join(outputs, 'export'));
    expect(skipped.get('model.weights.h5')).toMatch(/without model_config/);
  });

  it('reloads model.keras and model.h5 twice with bit-identical predictions, the same as each other', async () => {
    for (const name of ['model.keras', 'model.h5']) {
      const [a, b] = [byName(first, name), byName(second, name)];
      expect(a).toMatchObject({ status: 'ok', message: null, inputs: [{ shape: [4, 4], dtype: 'float32' }], loader: 'keras 3.15.1 (tensorflow)' });
      expect(a.predictions).toBe(join(work, 'reload-1', `${first.models.indexOf(a)}.npz`));
      // The .npz is written with a fixed entry date: equal predictions, equal bytes.
      expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(b.sha256).toBe(a.sha256);
      const compared = await compareReloadedPredictions(a.predictions as string, b.predictions as string, BITWISE, a);
      expect(compared).toMatchObject({ path: name, status: 'identical' });
      expect(compared.tensors?.map((t) => [t.name, t.shape.baseline])).toEqual([['output_0', [4, 2]]]);
    }
    expect(byName(first, 'model.h5').sha256).toBe(byName(first, 'model.keras').sha256);
  });

  it('runs the SavedModel made by model.export through tf.saved_model.load and its serving_default signature', () => {
    const exported = byName(first, 'export');
    expect(exported).toMatchObject({ format: 'savedmodel', status: 'ok', message: null, inputs: [{ name: 'keras_tensor', shape: [4, 4], dtype: 'float32' }] });
    expect(exported.loader).toMatch(/^tensorflow 2\.21\.0 \(tf\.saved_model\.load, serving_default\)$/);
    expect(exported.sha256).toBe(byName(second, 'export').sha256);
    // The same weights through the serving graph: here, to the bit.
    expect(exported.sha256).toBe(byName(first, 'model.keras').sha256);
  });

  it('builds every input of a model with dict inputs: the batch first, 8 for any other free dimension, integers for int inputs', async () => {
    const two = byName(first, 'two-inputs.keras');
    expect(two).toMatchObject({ status: 'ok', inputs: [{ name: 'a', shape: [4, 3], dtype: 'float32' }, { name: 'b', shape: [4, 8, 2], dtype: 'int32' }] });
    const compared = await compareReloadedPredictions(two.predictions as string, byName(second, 'two-inputs.keras').predictions as string, BITWISE, two);
    expect(compared.tensors?.map((t) => [t.name, t.shape.baseline, t.status])).toEqual([
      ['output_0', [4, 2], 'identical'],
      ['output_1', [4, 1], 'identical'],
    ]);
  });

  it('reports a truncated .keras, a custom layer nobody imports and a layer class Keras 3 lacks as errors, each with its reason', () => {
    expect(byName(first, 'bad/truncated.keras')).toMatchObject({ status: 'error', predictions: null, sha256: null, message: 'ValueError: not a zip archive, as every .keras file is: truncated or not a Keras model' });
    const custom = byName(first, 'bad/custom.keras');
    expect(custom).toMatchObject({ status: 'error', predictions: null });
    expect(custom.message).toMatch(/Could not locate class 'Twice'/);
    const keras2 = byName(first, 'bad/keras2.h5');
    expect(keras2).toMatchObject({ status: 'error', predictions: null, loader: 'keras 3.15.1 (tensorflow)' });
    expect(keras2.message).toMatch(/^ValueError: Unknown layer: 'DenseFromKeras2'/);
    for (const model of first.models) expect((model.message ?? '').length).toBeLessThanOrEqual(500);
  });

  it('says how long it took: the whole process, the import apart, each model', () => {
    expect(first.process).toBeNull();
    expect(first.import_ms).toBeGreaterThan(0);
    expect(first.duration_ms).toBeGreaterThan(first.import_ms as number);
    for (const model of first.models) expect(model.duration_ms).toBeGreaterThanOrEqual(0);
  });
});

/**
 * A stand-in for the interpreter: copies $RESULT to the output folder's result.json (the 6th
 * argument: -B script --request R --out OUT) and $NPZ, when set, to 0.npz; then exits $CODE.
 */
const FAKE_PYTHON = `#!/bin/sh
out="$6"
[ -n "$NPZ" ] && cp "$NPZ" "$out/0.npz"
[ -n "$LINK" ] && ln -s "$LINK" "$out/0.npz"
[ -n "$RESULT" ] && cp "$RESULT" "$out/result.json"
[ -n "$SLEEP" ] && sleep "$SLEEP"
exit "\${CODE:-0}"
`;

describe('a result.json that is not the answer to the request', () => {
  let dir: string;
  let fake: string;
  let count = 0;
  const models: SavedModelFile[] = [
    { path: '/outputs/a.keras', name: 'a.keras', format: 'keras' },
    { path: '/outputs/b.h5', name: 'b.h5', format: 'h5' },
  ];
  const entry = (name: string, format: string, predictions: string | null) => ({ name, format, status: predictions === null ? 'error' : 'ok', message: predictions === null ? 'ValueError: no' : null, loader: 'keras 3.15.1 (tensorflow)', inputs: [], predictions, duration_ms: 1 });
  const answer = (entries: unknown[], complete = true) => ({ reload_result: 1, seed: RELOAD_SEED, batch: RELOAD_BATCH, complete, numpy: '2.4.6', import_ms: 1, duration_ms: 2, models: entries });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'snapshot-reload-fake-'));
    fake = join(dir, 'python');
    writeFileSync(fake, FAKE_PYTHON);
    chmodSync(fake, 0o755);
    writeFileSync(join(dir, 'outside.npz'), 'PK not really');
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function reloadWith(result: unknown, extra: Record<string, string> = {}, timeoutMs = 20_000): Promise<ReloadRun> {
    count += 1;
    const resultFile = join(dir, `result-${count}.json`);
    if (result !== undefined) writeFileSync(resultFile, typeof result === 'string' ? result : JSON.stringify(result));
    return runReload({ execute: pythonExecutor(fake, { PATH: process.env.PATH, ...(result === undefined ? {} : { RESULT: resultFile }), ...extra }, timeoutMs), models, seed: RELOAD_SEED, batch: RELOAD_BATCH, outDir: join(dir, `out-${count}`) });
  }

  it('takes an honest answer', async () => {
    const run = await reloadWith(answer([entry('a.keras', 'keras', '0.npz'), entry('b.h5', 'h5', null)]), { NPZ: join(dir, 'outside.npz') });
    expect(run.models.map((m) => [m.path, m.status])).toEqual([
      ['a.keras', 'ok'],
      ['b.h5', 'error'],
    ]);
  });

  it('refuses a predictions file outside the output folder, by a relative path, an absolute one or a symlink', async () => {
    for (const predictions of ['../outside.npz', join(dir, 'outside.npz')]) {
      await expect(reloadWith(answer([entry('a.keras', 'keras', predictions), entry('b.h5', 'h5', null)]))).rejects.toThrow(/result\.json is refused: a\.keras: its predictions file .* (is outside the output folder|is not a \.npz file name inside the output folder)/);
    }
    await expect(reloadWith(answer([entry('a.keras', 'keras', '0.npz'), entry('b.h5', 'h5', null)]), { LINK: join(dir, 'outside.npz') })).rejects.toThrow(/a\.keras: its predictions file "0\.npz" is not a regular file/);
    await expect(reloadWith(answer([entry('a.keras', 'keras', '0.npz'), entry('b.h5', 'h5', null)]))).rejects.toThrow(/"0\.npz" cannot be read \(.*\)/);
  });

  it('refuses a model the request did not name, a field the schema does not know, and what is not JSON', async () => {
    await expect(reloadWith(answer([entry('a.keras', 'keras', null), entry('../../etc/passwd', 'h5', null)]))).rejects.toThrow(/refused: model 2 is named "\.\.\/\.\.\/etc\/passwd", but the request's model 2 is "b\.h5"/);
    await expect(reloadWith({ ...answer([entry('a.keras', 'keras', null), entry('b.h5', 'h5', null)]), note: 1 })).rejects.toThrow(/refused: \(top level\): unknown field 'note'/);
    await expect(reloadWith('{"reload_result": 1,')).rejects.toThrow(/refused: not JSON/);
    await expect(reloadWith(undefined)).rejects.toMatchObject({ code: 'RELOAD_RESULT_INVALID' });
  });

  it('keeps what a process that died part way had written, and says which model it stopped at', async () => {
    const run = await reloadWith(answer([entry('a.keras', 'keras', null)], false), { CODE: '139' });
    expect(run.process).toMatchObject({ outcome: 'failed' });
    expect(run.models.map((m) => [m.path, m.status])).toEqual([
      ['a.keras', 'error'],
      ['b.h5', 'error'],
    ]);
    expect(run.models[0]?.message).toBe('ValueError: no');
    expect(run.models[1]?.message).toMatch(/^the reload stopped while loading or running this model: .* exited with code 139/);
  });

  it('reports every model as not reloaded when the process runs past its bound and wrote nothing', async () => {
    const run = await reloadWith(undefined, { SLEEP: '30' }, 500);
    expect(run.process?.outcome).toBe('timeout');
    expect(run.models.map((m) => m.status)).toEqual(['error', 'error']);
    expect(run.models[0]?.message).toMatch(/^the reload did not run: .* did not finish within 500 ms/);
  });

  it('reads no file it did not ask for: an existing folder must be empty', async () => {
    const used = join(dir, 'used');
    mkdirSync(used);
    writeFileSync(join(used, '0.npz'), 'stale');
    await expect(runReload({ execute: pythonExecutor(fake, {}, 5000), models, seed: 1, batch: 1, outDir: used })).rejects.toThrow(/is not empty/);
    expect(readFileSync(join(used, '0.npz'), 'utf8')).toBe('stale');
  });
});

describeIf(available)('capture keeps the reload check: each saved model and its predictions in the bundle', () => {
  let dir: string;
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a .keras and a legacy .h5 reload with the same predictions; a truncated .keras is reported, and the capture succeeds', async () => {
    dir = mkdtempSync(join(tmpdir(), 'snapshot-capture-reload-'));
    writeFileSync(join(dir, 'train.py'), [
      'import os, keras',
      'keras.utils.set_random_seed(1)',
      'm = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])',
      'os.makedirs("out", exist_ok=True)',
      'm.save("out/model.keras"); m.save("out/model.h5")',
      'data = open("out/model.keras", "rb").read()',
      'open("out/broken.keras", "wb").write(data[: len(data) // 2])',
      '',
    ].join('\n'));
    const env = cleanEnv({ KERAS_HOME: join(dir, 'keras-home'), CUDA_VISIBLE_DEVICES: '', TF_CPP_MIN_LOG_LEVEL: '3' });
    const r = await runCli(['capture', '--python', tfPython, '--run', 'python train.py', '--outputs', 'out', '--json'], { cwd: dir, env, timeoutMs: 240_000 });
    expect(r.exitCode).toBe(0);
    const reload = r.json.result.run.reload;
    expect(reload).toMatchObject({ seed: RELOAD_SEED, batch: RELOAD_BATCH });
    expect(reload.models.map((m: { path: string; status: string }) => [m.path, m.status])).toEqual([
      ['broken.keras', 'error'],
      ['model.h5', 'ok'],
      ['model.keras', 'ok'],
    ]);
    const [broken, h5, keras] = reload.models;
    expect(broken.predictions).toBeNull();
    expect(broken.message).toBeTruthy();
    expect(h5.sha256).toBe(keras.sha256);
    expect(readFileSync(join(dir, h5.predictions))).toEqual(readFileSync(join(dir, keras.predictions)));
    expect(r.json.warnings.join('\n')).toContain('the saved model broken.keras does not reload in the captured environment');
    expect(r.json.result.probes.reload.status).toBe('ok');

    const off = await runCli(['capture', '--python', tfPython, '--run', 'python train.py', '--outputs', 'out', '--no-reload', '--force', '--json'], { cwd: dir, env, timeoutMs: 240_000 });
    expect(off.exitCode).toBe(0);
    expect(off.json.result.run.reload).toBeNull();
    expect(existsSync(join(dir, 'snapshot.bundle', 'reload'))).toBe(false);
  }, 300_000);
});

// Replay's side on a fake engine: the script's answer is written by the executor, so what is
// compared with what is under the test's control. Predictions are real .npz files (numpy).
describeIf(available)("replay's reload of the baseline's models, judged model by model", () => {
  let dir: string;
  let snapshotPath: string;
  let snapshot: Snapshot;
  const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'snapshot-replay-reload-'));
    snapshotPath = join(dir, 'snapshot.yaml');
    const bundle = join(dir, 'snapshot.bundle');
    mkdirSync(join(bundle, 'baseline'), { recursive: true });
    mkdirSync(join(bundle, 'reload'));
    writeFileSync(join(bundle, 'baseline', 'a.keras'), 'model a');
    writeFileSync(join(bundle, 'baseline', 'b.keras'), 'model b');
    const made = await runProcess(tfPython, ['-c', [
      'import numpy as np, sys',
      'd = sys.argv[1]',
      'np.savez(d + "/reload/0.npz", output_0=np.arange(8, dtype=np.float32).reshape(4, 2))',
      'np.savez(d + "/reload/1.npz", output_0=np.ones((4, 1), dtype=np.float32))',
      'moved = np.ones((4, 1), dtype=np.float32); moved[2, 0] = np.nextafter(np.float32(1), np.float32(2))',
      'np.savez(d + "/moved.npz", output_0=moved)',
    ].join('\n'), bundle], { timeoutMs: 60_000 });
    if (made.outcome !== 'ok') throw new Error(made.stderr);
    const base = makeSnapshot();
    const files = ['a.keras', 'b.keras'].map((name) => ({ path: name, size: 7, sha256: sha(join(bundle, 'baseline', name)), kind: 'other' as const }));
    const model = (name: string, index: number): ReloadedModel => ({ path: name, format: 'keras', status: 'ok', message: null, inputs: [{ name: 'x', shape: [4, 2], dtype: 'float32' }], predictions: `snapshot.bundle/reload/${index}.npz`, sha256: sha(join(bundle, 'reload', `${index}.npz`)) });
    snapshot = { ...base, run: { ...(base.run as NonNullable<Snapshot['run']>), baseline: { dir: 'snapshot.bundle/baseline', files }, reload: { seed: RELOAD_SEED, batch: RELOAD_BATCH, duration_ms: 1, models: [model('a.keras', 0), model('b.keras', 1)] } } };
  }, 90_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** An engine whose script answers each requested model with the file `answers` names (relative to the test folder). */
  const engine = (answers: Record<string, string>, seen: string[][]): ReloadExecutor => async ({ requestPath, outDir }) => {
    const request = JSON.parse(readFileSync(requestPath, 'utf8')) as { models: Array<{ name: string; format: string }> };
    seen.push(request.models.map((m) => m.name));
    const models = request.models.map((m, i) => {
      cpSync(join(dir, answers[m.name] as string), join(outDir, `${i}.npz`));
      return { name: m.name, format: m.format, status: 'ok', message: null, loader: 'keras 3.15.1 (tensorflow)', inputs: [{ name: 'x', shape: [4, 2], dtype: 'float32' }], predictions: `${i}.npz`, duration_ms: 1 };
    });
    writeFileSync(join(outDir, 'result.json'), JSON.stringify({ reload_result: 1, seed: RELOAD_SEED, batch: RELOAD_BATCH, complete: true, numpy: '2.4.6', import_ms: 5, duration_ms: 9, models }));
    return { outcome: 'ok', durationMs: 10 };
  };
  let round = 0;
  const judge = async (execute: ReloadExecutor) => {
    round += 1;
    const plan = await planReplayReload(snapshot, snapshotPath);
    return reloadBaselineModels({ snapshot, snapshotPath, plan: plan as NonNullable<typeof plan>, execute, outDir: join(dir, `out-${round}`), policy: null });
  };
  const verdicts = (r: Awaited<ReturnType<typeof judge>>) => r.models.map((m) => [m.path, m.status]);

  it('compares each model with its own kept predictions: the same files identical, one float moved different', async () => {
    const seen: string[][] = [];
    expect(verdicts(await judge(engine({ 'a.keras': 'snapshot.bundle/reload/0.npz', 'b.keras': 'snapshot.bundle/reload/1.npz' }, seen)))).toEqual([['a.keras', 'identical'], ['b.keras', 'identical']]);
    const moved = await judge(engine({ 'a.keras': 'snapshot.bundle/reload/0.npz', 'b.keras': 'snapshot.bundle/moved.npz' }, seen));
    expect(verdicts(moved)).toEqual([['a.keras', 'identical'], ['b.keras', 'different']]);
    expect(moved.message).toContain('1 give other predictions');
  });

  it("never takes one model's predictions for another's: swapped answers are both different", async () => {
    const swapped = await judge(engine({ 'a.keras': 'snapshot.bundle/reload/1.npz', 'b.keras': 'snapshot.bundle/reload/0.npz' }, []));
    expect(verdicts(swapped)).toEqual([['a.keras', 'different'], ['b.keras', 'different']]);
  });

  it('a baseline model changed since capture is not run, and says so rather than blaming the environment', async () => {
    const path = join(dir, 'snapshot.bundle', 'baseline', 'b.keras');
    writeFileSync(path, 'model B');
    try {
      const seen: string[][] = [];
      const r = await judge(engine({ 'a.keras': 'snapshot.bundle/reload/0.npz' }, seen));
      expect(seen).toEqual([['a.keras']]);
      expect(verdicts(r)).toEqual([['a.keras', 'identical'], ['b.keras', 'error']]);
      expect(r.models[1]?.message).toMatch(/b\.keras has changed since capture/);
    } finally {
      writeFileSync(path, 'model b');
    }
  });

  it('a process that never reports is an error with its reason, not a model that does not load', async () => {
    const r = await judge(async () => ({ outcome: 'failed', reason: 'python: not found (exit 127)', durationMs: 3 }));
    expect(verdicts(r)).toEqual([['a.keras', 'error'], ['b.keras', 'error']]);
    expect(r.models[0]?.message).toContain('python: not found (exit 127)');
  });

  it('refuses a baseline folder that is a link out of the snapshot folder, before anything runs', async () => {
    const other = mkdtempSync(join(tmpdir(), 'snapshot-elsewhere-'));
    const linked = join(dir, 'linked');
    mkdirSync(linked);
    symlinkSync(other, join(linked, 'baseline'));
    try {
      const crafted: Snapshot = { ...snapshot, run: { ...(snapshot.run as NonNullable<Snapshot['run']>), baseline: { dir: 'linked/baseline', files: [] } } };
      await expect(planReplayReload(crafted, snapshotPath)).rejects.toMatchObject({ code: 'UNSAFE_SNAPSHOT_VALUE', message: expect.stringContaining('through a link') });
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
