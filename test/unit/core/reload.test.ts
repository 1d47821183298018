// The saved-model reload check's pure part: which outputs are saved models, what a result.json must
// say for its request, and what a replay's reload of a baseline model says next to the baseline's.
import { describe, expect, it } from '@jest/globals';
import { BITWISE, type TensorDiff } from '../../../src/core/compare/model.js';
import type { ReloadedModel } from '../../../src/core/model.js';
import { foldReloadedPredictions, h5FilesToInspect, isKerasH5Model, judgeWithoutPredictions, pickSavedModels, reloadResultProblems, type H5RootFacts, type ReloadRequest, type ReloadResultFile } from '../../../src/core/reload.js';

describe('pickSavedModels', () => {
  const paths = [
    'export/assets/vocab.txt',
    'export/fingerprint.pb',
    'export/saved_model.pb',
    'export/variables/variables.data-00000-of-00001',
    'export/inner/saved_model.pb',
    'export/stray.keras',
    'metrics.json',
    'model.h5',
    'model.keras',
    'model.weights.h5',
    'nested/ckpt.hdf5',
    'notes.KERAS',
    'broken.h5',
    'unread.h5',
  ];
  const facts = new Map<string, H5RootFacts>([
    ['model.h5', { attributes: ['backend', 'keras_version', 'model_config'] }],
    ['model.weights.h5', { attributes: [] }],
    ['nested/ckpt.hdf5', { attributes: ['backend', 'keras_version', 'layer_names'] }],
    ['broken.h5', { error: 'no HDF5 signature' }],
  ]);

  it('asks for the root of every .h5 / .hdf5 outside a SavedModel folder', () => {
    expect(h5FilesToInspect(paths)).toEqual(['model.h5', 'model.weights.h5', 'nested/ckpt.hdf5', 'broken.h5', 'unread.h5']);
  });

  it('takes .keras files, .h5 files with model_config and the outermost SavedModel folders, and says why it passed over the other .h5 files', () => {
    const { models, skipped } = pickSavedModels(paths, facts);
    expect(models).toEqual([
      { name: 'export', format: 'savedmodel' },
      { name: 'model.h5', format: 'h5' },
      { name: 'model.keras', format: 'keras' },
    ]);
    expect(skipped.map((s) => s.name).sort()).toEqual(['broken.h5', 'model.weights.h5', 'nested/ckpt.hdf5', 'unread.h5']);
    expect(skipped.find((s) => s.name === 'model.weights.h5')?.reason).toMatch(/without model_config/);
    expect(skipped.find((s) => s.name === 'broken.h5')?.reason).toMatch(/not readable as HDF5 \(no HDF5 signature\)/);
  });

  it('names the outputs folder itself "." when it is a SavedModel', () => {
    expect(pickSavedModels(['saved_model.pb', 'variables/variables.index', 'x.keras'], new Map()).models).toEqual([{ name: '.', format: 'savedmodel' }]);
  });

  it('tells a full model from a weights file by model_config alone', () => {
    expect(isKerasH5Model(['model_config'])).toBe(true);
    expect(isKerasH5Model(['layer_names', 'backend', 'keras_version'])).toBe(false);
    expect(isKerasH5Model([])).toBe(false);
  });
});

const request: ReloadRequest = {
  seed: 7,
  batch: 4,
  models: [
    { path: '/o/a.keras', name: 'a.keras', format: 'keras' },
    { path: '/o/b.h5', name: 'b.h5', format: 'h5' },
  ],
};

function result(models: ReloadResultFile['models'], extra: Partial<ReloadResultFile> = {}): ReloadResultFile {
  return { reload_result: 1, seed: 7, batch: 4, complete: true, numpy: '2.4.6', import_ms: 1, duration_ms: 2, models, ...extra };
}
const ok = (name: string, format: ReloadResultFile['models'][number]['format'], predictions: string): ReloadResultFile['models'][number] => ({ name, format, status: 'ok', message: null, loader: 'keras 3', inputs: [{ name: 'x', shape: [4, 3], dtype: 'float32' }], predictions, duration_ms: 1 });

describe('reloadResultProblems', () => {
  it('accepts the answer to the request', () => {
    expect(reloadResultProblems(result([ok('a.keras', 'keras', '0.npz'), ok('b.h5', 'h5', '1.npz')]), request)).toEqual([]);
    expect(reloadResultProblems(result([ok('a.keras', 'keras', '0.npz')], { complete: false }), request)).toEqual([]);
  });

  it('refuses a model not requested, another order, a wrong seed, a shared file and an incomplete answer said complete', () => {
    expect(reloadResultProblems(result([ok('a.keras', 'keras', '0.npz'), ok('evil.h5', 'h5', '1.npz')]), request).join()).toMatch(/model 2 is named "evil.h5", but the request's model 2 is "b.h5"/);
    expect(reloadResultProblems(result([ok('b.h5', 'h5', '0.npz'), ok('a.keras', 'keras', '1.npz')]), request)).toHaveLength(2);
    expect(reloadResultProblems(result([ok('a.keras', 'keras', '0.npz'), ok('b.h5', 'h5', '1.npz')], { seed: 8 }), request).join()).toMatch(/seed 8/);
    expect(reloadResultProblems(result([ok('a.keras', 'keras', '0.npz'), ok('b.h5', 'h5', '0.npz')]), request).join()).toMatch(/another model's too/);
    expect(reloadResultProblems(result([ok('a.keras', 'keras', '0.npz')]), request).join()).toMatch(/complete but lists 1 of the 2/);
    expect(reloadResultProblems(result([ok('a.keras', 'keras', '0.npz'), ok('b.h5', 'h5', '1.npz'), ok('c', 'keras', '2.npz')]), request).join()).toMatch(/lists 3 models; 2 were requested/);
  });

  it('refuses a loaded model without predictions and a failed one with predictions or without a reason', () => {
    const failed = { ...ok('b.h5', 'h5', '1.npz'), status: 'error' as const };
    expect(reloadResultProblems(result([{ ...ok('a.keras', 'keras', '0.npz'), predictions: null }, failed]), request)).toEqual(['a.keras: loaded, but names no predictions file', 'b.h5: did not load, but names a predictions file', 'b.h5: did not load, and says not why']);
  });
});

const model = (fields: Partial<ReloadedModel> = {}): ReloadedModel => ({ path: 'model.keras', format: 'keras', status: 'ok', message: null, inputs: [{ name: 'x', shape: [4, 3], dtype: 'float32' }], predictions: 'reload/0.npz', sha256: 'a'.repeat(64), ...fields });
const check = { seed: 7, batch: 4 };

describe('judgeWithoutPredictions', () => {
  it('leaves two loaded models with the same inputs to the comparison of their predictions', () => {
    expect(judgeWithoutPredictions(check, model(), check, model())).toBeNull();
  });

  it("says a model the replay environment cannot load is unloadable, with the environment's reason", () => {
    const verdict = judgeWithoutPredictions(check, model({ format: 'h5', path: 'model.h5' }), check, model({ format: 'h5', path: 'model.h5', status: 'error', message: "ValueError: Unknown layer: 'Foo'", predictions: null, sha256: null }));
    expect(verdict).toEqual({ path: 'model.h5', format: 'h5', status: 'unloadable', message: "the replay environment could not load or run the baseline's model: ValueError: Unknown layer: 'Foo'" });
  });

  it('checks nothing when the baseline itself did not reload, or the replay did not try', () => {
    expect(judgeWithoutPredictions(check, model({ status: 'error', message: 'boom', predictions: null }), check, model())?.status).toBe('not_checked');
    expect(judgeWithoutPredictions(check, model(), null, null)?.message).toBe('the replay did not reload this model');
  });

  it('calls other inputs different, and another seed an error', () => {
    expect(judgeWithoutPredictions(check, model(), check, model({ inputs: [{ name: 'x', shape: [4, 8], dtype: 'float32' }] }))?.status).toBe('different');
    expect(judgeWithoutPredictions(check, model(), { seed: 8, batch: 4 }, model())?.status).toBe('error');
  });
});

describe('foldReloadedPredictions', () => {
  const tensor = (status: TensorDiff['status'], mismatched = 0): TensorDiff => ({ name: 'output_0', status, dtype: { baseline: '<f4', candidate: '<f4' }, shape: { baseline: [4, 1], candidate: [4, 1] }, elements: 4, max_abs_diff: mismatched ? 1e-7 : 0, max_rel_diff: 0, mismatched, mismatched_fraction: mismatched / 4, first_mismatch: mismatched ? [0, 0] : null, tolerance: BITWISE });

  it('is identical when every output is, different when one moved or one side has another output', () => {
    expect(foldReloadedPredictions('m.keras', 'keras', { tensors: [tensor('identical')], entries: [], missing: [], extra: [] })).toMatchObject({ status: 'identical', message: 'the reloaded model gives bit-identical predictions' });
    expect(foldReloadedPredictions('m.keras', 'keras', { tensors: [tensor('different', 1)], entries: [], missing: [], extra: [] }).status).toBe('different');
    const extra = foldReloadedPredictions('m.keras', 'keras', { tensors: [tensor('identical')], entries: [], missing: [], extra: ['output_1'] });
    expect(extra.status).toBe('different');
    expect(extra.message).toMatch(/other predictions/);
  });

  it('is an error when a file cannot be read', () => {
    expect(foldReloadedPredictions('m.keras', 'keras', { tensors: [], entries: [], missing: [], extra: [], error: 'baseline: not a zip file' })).toMatchObject({ status: 'error', message: 'the predictions could not be compared: baseline: not a zip file' });
  });
});
