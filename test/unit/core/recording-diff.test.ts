// Two runs' records compared: the data at fit, seeds, model and initial weights, each with its
// severity; nothing when either side was not recorded.
import { describe, expect, it } from '@jest/globals';
import { diffRecordings } from '../../../src/core/recording-diff.js';
import { diffSnapshots } from '../../../src/core/snapshot-diff.js';
import { explain } from '../../../src/core/replay/explain.js';
import { makeFit, makeRecording, sha } from '../../helpers/record-fixture.js';
import { makeSnapshot } from '../../helpers/snapshot-fixture.js';

describe('diffRecordings', () => {
  it('finds nothing between a record and itself, or when a side was not recorded', () => {
    expect(diffRecordings(makeRecording(), makeRecording())).toEqual([]);
    expect(diffRecordings(null, makeRecording())).toEqual([]);
    expect(diffRecordings(makeRecording(), undefined)).toEqual([]);
  });

  it('names other data of the same shape at fit as another split or preprocessing, high', () => {
    const other = makeRecording({ fits: [makeFit({ data: { ...makeFit().data, x: { kind: 'array', source: 'numpy', shape: [512, 4], dtype: 'float32', sha256: sha('9'), bytes: 8192 } } })] });
    const [d] = diffRecordings(makeRecording(), other);
    expect(d).toMatchObject({ field: 'run.record.fits.0.data.x', category: 'run', severity: 'high' });
    expect(d?.why).toContain('another split, order or preprocessing');
  });

  it('follows structured inputs to each array', () => {
    const structured = (s: string) => makeRecording({ fits: [makeFit({ data: { ...makeFit().data, x: { kind: 'structure', items: { image: { kind: 'array', source: 'numpy', shape: [2, 3], dtype: 'float32', sha256: sha(s), bytes: 24 }, label: { kind: 'none' } } } } })] });
    expect(diffRecordings(structured('1'), structured('2')).map((d) => d.field)).toEqual(['run.record.fits.0.data.x.image']);
  });

  it('reports seeds, initial weights, the optimizer and fit parameters', () => {
    const other = makeRecording({
      seeds: [{ call: 'tf.random.set_seed', args: [7], order: 0, via: null }],
      fits: [makeFit({ model: { ...makeFit().model, initial_weights_sha256: sha('b') }, optimizer: { class: 'Adam', config: { learning_rate: 0.01 } }, epochs: 10, batch_size: 64 })],
    });
    const fields = diffRecordings(makeRecording(), other).map((d) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['run.record.seeds', 'run.record.fits.0.model.initial_weights_sha256', 'run.record.fits.0.optimizer', 'run.record.fits.0.epochs', 'run.record.fits.0.batch_size']));
  });

  it('reports a cuDNN of another version really loaded as high, an unrelated library as low', () => {
    const a = makeRecording({ libraries: [{ name: 'libcudnn', path: '/x/libcudnn.so.9.1.0', version: '9.1.0' }, { name: 'libgomp', path: '/x/libgomp.so.1', version: '1' }] });
    const b = makeRecording({ libraries: [{ name: 'libcudnn', path: '/y/libcudnn.so.8.9.7', version: '8.9.7' }, { name: 'libgomp', path: '/x/libgomp.so.1', version: '2' }] });
    const diffs = diffRecordings(a, b);
    expect(diffs.find((d) => d.field === 'run.record.libraries.libcudnn')?.severity).toBe('high');
    expect(diffs.find((d) => d.field === 'run.record.libraries.libgomp')?.severity).toBe('low');
  });

  it('a different data digest at fit is the first likely cause, before a host name or a package', () => {
    const base = makeSnapshot();
    const baseline = { ...base, run: { ...(base.run as NonNullable<typeof base.run>), record: makeRecording() } };
    const otherData = makeRecording({ fits: [makeFit({ data: { ...makeFit().data, y: { kind: 'array', source: 'numpy', shape: [512], dtype: 'int64', sha256: sha('8'), bytes: 4096 } } })] });
    const replayed = { ...base, system: { ...base.system, hostname: 'elsewhere' }, packages: base.packages.map((p, i) => (i === 0 ? { ...p, version: '9.9.9' } : p)), run: { ...(base.run as NonNullable<typeof base.run>), record: otherData } };
    const differences = diffSnapshots(baseline, replayed);
    const { causes } = explain({ verdict: 'different', differences, snapshot: baseline, failure: null, hardwareCrossed: false, dataUnverified: false });
    expect(causes[0]?.field).toBe('run.record.fits.0.data.y');
  });
});
