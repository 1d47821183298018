import { describe, expect, it } from '@jest/globals';
import { compareKeys, compareMetrics, compareNumbers, flattenJson, metricsStatus, parseMetricsJson } from '../../../src/core/compare/metrics.js';
import { BITWISE, type MetricDiff, type MetricRule } from '../../../src/core/compare/model.js';

const allclose = (rtol: number, atol: number, extra: Partial<MetricRule> = {}): MetricRule => ({ mode: 'allclose', rtol, atol, nan_equal: true, ...extra });

describe('flattenJson', () => {
  it('turns nested objects into dotted keys and lists into indexes', () => {
    expect([...flattenJson({ history: { loss: [0.5, 0.4] }, epochs: 2, name: 'run', ok: true, none: null })]).toEqual([
      ['history.loss.0', 0.5],
      ['history.loss.1', 0.4],
      ['epochs', 2],
      ['name', 'run'],
      ['ok', true],
      ['none', null],
    ]);
  });

  it('keeps empty objects and arrays as leaves, and a top-level scalar under the empty key', () => {
    expect([...flattenJson({ a: {}, b: [], c: [{}] })]).toEqual([
      ['a', {}],
      ['b', []],
      ['c.0', {}],
    ]);
    expect([...flattenJson(3)]).toEqual([['', 3]]);
  });
});

describe('parseMetricsJson', () => {
  it('accepts the NaN and Infinity tokens Python json.dump writes, but not inside strings', () => {
    const value = parseMetricsJson('{"loss": [NaN, Infinity, -Infinity, 1.5], "note": "NaN stays text", "q": "a\\"NaN"}') as Record<string, unknown>;
    const loss = value.loss as number[];
    expect(Number.isNaN(loss[0])).toBe(true);
    expect(loss.slice(1)).toEqual([Infinity, -Infinity, 1.5]);
    expect(value.note).toBe('NaN stays text');
    expect(value.q).toBe('a"NaN');
  });

  it('still refuses what is not JSON', () => {
    expect(() => parseMetricsJson('{"a": nope}')).toThrow();
    expect(() => parseMetricsJson('{"a": NaN')).toThrow();
  });
});

describe('compareNumbers', () => {
  it('identical only for the same double; -0 vs 0 is different bitwise and equivalent under allclose', () => {
    expect(compareNumbers(1, 1, BITWISE).status).toBe('identical');
    expect(compareNumbers(0, -0, BITWISE)).toMatchObject({ status: 'different', message: 'sign of zero differs (bitwise)' });
    expect(compareNumbers(0, -0, allclose(0, 0)).status).toBe('equivalent');
  });

  it('uses numpy isclose with the baseline as b', () => {
    // |a - b| <= atol + rtol * |b|: 1.1 vs baseline 1.0 with rtol 0.1 is inside; baseline 1.1 vs 1.0 is too (0.1 <= 0.11).
    expect(compareNumbers(1.0, 1.1, allclose(0.1, 0)).status).toBe('different'); // 0.10000000000000009 > 0.1
    expect(compareNumbers(1.0, 1.05, allclose(0.1, 0)).status).toBe('equivalent');
    expect(compareNumbers(1.1, 1.0, allclose(0.1, 0)).status).toBe('equivalent');
    expect(compareNumbers(0, 1e-9, allclose(0, 1e-8))).toMatchObject({ status: 'equivalent', message: 'within tolerance' });
  });

  it('NaN equals NaN only with nan_equal; infinities only themselves', () => {
    expect(compareNumbers(NaN, NaN, allclose(0, 0)).status).toBe('identical');
    expect(compareNumbers(NaN, NaN, allclose(0, 0, { nan_equal: false })).status).toBe('different');
    expect(compareNumbers(1, NaN, allclose(1, 1))).toMatchObject({ status: 'different', message: 'candidate is NaN', difference: null });
    expect(compareNumbers(Infinity, Infinity, allclose(0, 0)).status).toBe('identical');
    expect(compareNumbers(Infinity, 1e308, allclose(1, 1)).status).toBe('different');
  });

  it('a change in the welcome direction is equivalent, "better than the baseline"', () => {
    expect(compareNumbers(0.8, 0.9, { ...BITWISE, greater_is_better: true })).toMatchObject({ status: 'equivalent', message: 'better than the baseline' });
    expect(compareNumbers(0.8, 0.7, { ...BITWISE, greater_is_better: true }).status).toBe('different');
    expect(compareNumbers(0.5, 0.4, allclose(0, 0.01, { greater_is_better: false })).status).toBe('equivalent');
    expect(compareNumbers(0.5, 0.6, allclose(0, 0.01, { greater_is_better: false })).status).toBe('different');
  });

  it('mode ignore: a change is equivalent', () => {
    expect(compareNumbers(1, 2, { mode: 'ignore', rtol: 0, atol: 0, nan_equal: true })).toMatchObject({ status: 'equivalent', message: 'ignored by the policy' });
  });

  it('reports candidate - baseline', () => {
    expect(compareNumbers(0.5, 0.75, BITWISE).difference).toBe(0.25);
    expect(compareNumbers(Infinity, 1, BITWISE).difference).toBeNull();
  });
});

describe('compareMetrics on a Keras History dict', () => {
  const baseline = { loss: [0.7, 0.5, 0.4], accuracy: [0.5, 0.75, 0.8], val_loss: [0.8, 0.6, 0.55], lr: [0.001, 0.001, 0.001], epochs: 3, optimizer: 'adam' };
  const rules: Record<string, MetricRule> = {
    loss: allclose(1e-3, 0, { greater_is_better: false }),
    accuracy: allclose(0, 0.01, { greater_is_better: true }),
    val_loss: allclose(0, 0.02),
  };
  const ruleFor = (key: string): MetricRule => rules[key.split('.')[0] as string] ?? BITWISE;

  it('applies per-key rules and directions, sorted by key with numeric indexes in order', () => {
    const candidate = { loss: [0.7, 0.45, 0.4004], accuracy: [0.5, 0.7, 0.9], val_loss: [0.8, 0.61, 0.6], lr: [0.001, 0.001, 0.001], epochs: 3, optimizer: 'sgd', extra_metric: 1 };
    const diffs = compareMetrics(baseline, candidate, ruleFor);
    const byKey = new Map(diffs.map((d) => [d.key, d]));
    expect(diffs.map((d) => d.key)).toEqual([
      'accuracy.0', 'accuracy.1', 'accuracy.2', 'epochs', 'extra_metric', 'loss.0', 'loss.1', 'loss.2', 'lr.0', 'lr.1', 'lr.2', 'optimizer', 'val_loss.0', 'val_loss.1', 'val_loss.2',
    ]);
    expect(byKey.get('loss.1')).toMatchObject({ status: 'equivalent', message: 'better than the baseline' });
    expect(byKey.get('loss.2')).toMatchObject({ status: 'equivalent', message: 'within tolerance' });
    expect(byKey.get('accuracy.1')?.status).toBe('different');
    expect(byKey.get('accuracy.2')).toMatchObject({ status: 'equivalent', message: 'better than the baseline' });
    expect(byKey.get('val_loss.1')?.status).toBe('equivalent');
    expect(byKey.get('val_loss.2')?.status).toBe('different');
    expect(byKey.get('val_loss.2')?.difference).toBeCloseTo(0.05);
    expect(byKey.get('val_loss.2')?.tolerance).toEqual(rules.val_loss);
    expect(byKey.get('optimizer')).toMatchObject({ status: 'different', baseline: 'adam', candidate: 'sgd', difference: null, tolerance: null });
    expect(byKey.get('extra_metric')).toMatchObject({ status: 'extra', baseline: null, candidate: 1 });
    expect(byKey.get('epochs')?.status).toBe('identical');
    expect(metricsStatus(diffs)).toBe('different');
  });

  it('keys missing from the candidate, type changes and {} vs missing', () => {
    const diffs = compareMetrics({ a: 1, b: 2, c: {}, d: [1] }, { a: '1', c: {}, d: [] }, () => BITWISE);
    expect(diffs).toEqual([
      { key: 'a', status: 'different', baseline: 1, candidate: '1', difference: null, tolerance: null, message: 'type changed: number in the baseline, string in the candidate' },
      { key: 'b', status: 'missing', baseline: 2, candidate: null, difference: null, tolerance: null, message: 'missing from the candidate' },
      { key: 'c', status: 'identical', baseline: {}, candidate: {}, difference: null, tolerance: null },
      { key: 'd', status: 'extra', baseline: null, candidate: [], difference: null, tolerance: null, message: 'only in the candidate' },
      { key: 'd.0', status: 'missing', baseline: 1, candidate: null, difference: null, tolerance: null, message: 'missing from the candidate' },
    ]);
    expect(compareMetrics({ x: {} }, {}, () => BITWISE)).toMatchObject([{ key: 'x', status: 'missing' }]);
  });

  it('null, booleans and strings are exact', () => {
    const diffs = compareMetrics({ a: null, b: true, c: 'x' }, { a: null, b: false, c: 'x' }, () => allclose(1, 1));
    expect(diffs.map((d) => d.status)).toEqual(['identical', 'different', 'identical']);
  });
});

describe('metricsStatus', () => {
  const d = (status: MetricDiff['status']): MetricDiff => ({ key: 'k', status, baseline: 1, candidate: 1, difference: null, tolerance: null });
  it('identical, equivalent (extras allowed) or different', () => {
    expect(metricsStatus([])).toBe('identical');
    expect(metricsStatus([d('identical')])).toBe('identical');
    expect(metricsStatus([d('identical'), d('equivalent'), d('extra')])).toBe('equivalent');
    expect(metricsStatus([d('extra')])).toBe('equivalent');
    expect(metricsStatus([d('identical'), d('missing')])).toBe('different');
    // The same fold as every format: an item that could not be judged makes the output an error.
    expect(metricsStatus([d('error')])).toBe('error');
  });
});

describe('compareKeys', () => {
  it('orders numeric segments numerically', () => {
    expect(['h.loss.10', 'h.loss.2', 'h.acc', 'h.loss.1', 'a'].sort(compareKeys)).toEqual(['a', 'h.acc', 'h.loss.1', 'h.loss.2', 'h.loss.10']);
  });
});
