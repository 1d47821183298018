// capture --repeat's pure decisions: the verdict from the comparisons, where two runs parted
// (from their records), which findings explain it, and the fixes --explain tries.
import { describe, expect, it } from '@jest/globals';
import type { CompareReport } from '../../../src/core/compare/model.js';
import { candidateFixes, divergence, explainedBy, repeatMessage, repeatVerdict } from '../../../src/core/repeat.js';
import { makeFit, makeRecording, sha } from '../../helpers/record-fixture.js';

const report = (verdict: CompareReport['verdict'], outputs: CompareReport['outputs'] = []) => ({ verdict, outputs }) as unknown as CompareReport;

describe('repeatVerdict', () => {
  it('deterministic when every further run was identical, the worst verdict otherwise, with the outputs that moved', () => {
    expect(repeatVerdict([report('identical'), report('identical')])).toEqual({ verdict: 'deterministic', moved: [] });
    expect(repeatVerdict([report('identical'), report('equivalent')]).verdict).toBe('equivalent');
    const moved = report('different', [
      { path: 'preds.npy', format: 'npy', status: 'different', tensors: [{ max_abs_diff: 0.02 }] } as never,
      { path: 'metrics.json', format: 'json', status: 'identical' } as never,
    ]);
    const r = repeatVerdict([report('identical'), moved, report('error')]);
    expect(r.verdict).toBe('error');
    expect(r.moved).toEqual([{ path: 'preds.npy', status: 'different', max_abs_diff: 0.02, message: null }]);
  });
});

describe('divergence', () => {
  it('initial weights already different: the initialization is not seeded', () => {
    const other = makeRecording({ fits: [makeFit({ model: { ...makeFit().model, initial_weights_sha256: sha('d') } })] });
    expect(divergence(makeRecording(), other)?.stage).toBe('initial_weights');
  });
  it('other data at fit comes before other initial weights', () => {
    const other = makeRecording({ fits: [makeFit({ model: { ...makeFit().model, initial_weights_sha256: sha('d') }, data: { ...makeFit().data, x: { kind: 'array', source: 'numpy', shape: [512, 4], dtype: 'float32', sha256: sha('e'), bytes: 8192 } } })] });
    expect(divergence(makeRecording(), other)?.stage).toBe('data');
  });
  it('other seed values come first of all', () => {
    expect(divergence(makeRecording(), makeRecording({ seeds: [{ call: 'random.seed', args: [1733], order: 0, via: null }] }))?.stage).toBe('seeds');
  });
  it('everything at fit the same: it parted in training', () => {
    expect(divergence(makeRecording(), makeRecording())?.stage).toBe('training');
    expect(divergence(makeRecording(), makeRecording())?.message).not.toContain('not compared');
  });
  it('says what the records could not compare instead of taking it as equal: a dataset, unknown initial weights, another fit count', () => {
    const dataset = { kind: 'dataset' as const, source: 'tf.data.Dataset', element_spec: '(TensorSpec(shape=(None, 4)))', cardinality: 8 };
    const blind = makeRecording({ fits: [makeFit({ model: { ...makeFit().model, initial_weights_sha256: null }, data: { ...makeFit().data, x: dataset } })] });
    const message = divergence(blind, blind)?.message ?? '';
    expect(message).toMatch(/not compared: fit #1 x, a tf\.data\.Dataset whose elements are not read; fit #1 initial weights, unknown at fit/);
    const twice = makeRecording({ fits: [makeFit(), makeFit({ index: 1 })] });
    expect(divergence(makeRecording(), twice)).toMatchObject({ stage: 'training', message: expect.stringContaining('called fit 1 and 2 times') });
  });
  it('unknown without records', () => {
    expect(divergence(null, makeRecording())).toBeNull();
  });
});

describe('explainedBy and candidateFixes', () => {
  const finding = (code: string) => ({ level: 'warning' as const, code, message: code, fix: null });
  it('names the findings the divergence points at, among those present', () => {
    const findings = [finding('KERAS3_PYTHON_RANDOM_UNSEEDED'), finding('PYTHONHASHSEED_UNSET'), finding('ONEDNN_ON')];
    expect(explainedBy({ stage: 'initial_weights', message: '' }, findings)).toEqual(['KERAS3_PYTHON_RANDOM_UNSEEDED']);
    expect(explainedBy({ stage: 'training', message: '' }, findings)).toEqual(['ONEDNN_ON', 'PYTHONHASHSEED_UNSET']);
  });
  it("seeds Python's random where the training seeds its framework first, with the user's own seed in the advice", () => {
    const fixes = candidateFixes({ stage: 'initial_weights', message: '' }, makeRecording(), {});
    expect(fixes[0]).toMatchObject({ code: 'KERAS3_PYTHON_RANDOM_UNSEEDED', env: { SNAPSHOT_RECORD_ALSO_SEED: '1' } });
    expect(fixes[0]?.advice).toBe('adding `keras.utils.set_random_seed(42)` where you call `tf.random.set_seed(42)` made two runs bit-identical');
    expect(fixes.map((f) => f.code)).toContain('PYTHONHASHSEED_UNSET');
  });
  it('without a seed call there is no seed to copy; with PYTHONHASHSEED set it is not tried; a training divergence tries kernels first', () => {
    const fixes = candidateFixes({ stage: 'training', message: '' }, makeRecording({ seeds: [] }), { PYTHONHASHSEED: '0' });
    expect(fixes.map((f) => f.code)).toEqual(['TF_GPU_NO_OP_DETERMINISM', 'THREADS_UNPINNED']);
  });
  it('says what moved and where the runs parted', () => {
    expect(repeatMessage('deterministic', 2, [], null)).toBe('2 runs gave bit-identical outputs');
    expect(repeatMessage('nondeterministic', 2, [{ path: 'p.npy', status: 'different', max_abs_diff: 0.0123, message: null }], { stage: 'initial_weights', message: 'the initial weights already differed at fit' })).toBe('the outputs moved between runs: p.npy (max |diff| 0.0123); the initial weights already differed at fit');
  });
});
